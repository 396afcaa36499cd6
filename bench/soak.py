#!/usr/bin/env python3
"""Memory soak: a small config for many epochs with validation every epoch.

Reports RSS growth per epoch after warm-up (the monitor's Theil-Sen slope and a
plain first/last figure from metrics.csv) and the largest validation buffer,
against the targets: growth < 1 MB/epoch, buffer rows at their cap.

  python3 bench/soak.py [--epochs 200]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--cap", type=int, default=200, help="memory.max_validation_outputs")
    a = p.parse_args()
    trainer = ROOT / os.environ.get("BUILD_DIR", "build") / "tools" / "trainer"
    with tempfile.TemporaryDirectory(prefix="safetrain-soak-") as tmp:
        sets = {"output.dir": tmp, "output.run_name": "soak", "training.max_epochs": a.epochs,
                "training.check_val_every_n_epoch": 1, "training.early_stopping": "false",
                "data.synthetic.rows": 4000, "memory.max_validation_outputs": a.cap,
                "monitor.window_epochs": 50, "logging.progress": "off"}
        cmd = [str(trainer), "--config", str(ROOT / "configs" / "quickstart.yaml")]
        for k, v in sets.items():
            cmd += ["--set", f"{k}={v}"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(done.stderr[-2000:])
        run = Path(tmp) / "soak"
        report = json.loads((run / "memory_report.json").read_text())
        metrics = json.loads((run / "metrics.json").read_text())
        rss = [float(r["rss_mb"]) for r in csv.DictReader(open(run / "metrics.csv"))]
        warm = report["warmup_epochs"]
        plain = (rss[-1] - rss[warm]) / max(1, len(rss) - 1 - warm)
        buf = metrics["val_buffer"]
        print(f"epochs {len(rss)}, RSS epoch {warm + 1}: {rss[warm]:.1f} MB, last: {rss[-1]:.1f} MB, peak "
              f"{report['peak_rss_mb']:.1f} MB")
        print(f"growth after warm-up: {report['growth_mb_per_epoch']:+.3f} MB/epoch (Theil-Sen, last "
              f"{min(50, len(rss))} epochs), {plain:+.3f} MB/epoch (first/last)  target < 1: "
              f"{'PASS' if max(report['growth_mb_per_epoch'], plain) < 1 else 'FAIL'}")
        print(f"validation buffer: largest {buf['largest_rows']} rows / {buf['largest_bytes']} bytes, cap "
              f"{buf['capacity']} rows: {'PASS' if buf['largest_rows'] <= buf['capacity'] else 'FAIL'}")
        print(f"monitor warnings: {len(report['warnings'])}, verdict: {report['verdict']}")


if __name__ == "__main__":
    main()
