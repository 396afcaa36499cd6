#!/usr/bin/env python3
"""Monitor thread overhead: the same training run with monitor.enabled true and
false, alternated, compared on train samples/s (median of the per-epoch figures).

  python3 bench/monitor_overhead.py [--pairs 3] [--interval-ms 200]
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(enabled, interval, tmp, name):
    trainer = ROOT / os.environ.get("BUILD_DIR", "build") / "tools" / "trainer"
    sets = {"output.dir": tmp, "output.run_name": name, "monitor.enabled": str(enabled).lower(),
            "monitor.interval_ms": interval, "training.max_epochs": 6, "training.early_stopping": "false",
            "data.num_workers": 0, "logging.progress": "off"}
    cmd = [str(trainer), "--config", str(ROOT / "configs" / "quickstart.yaml")]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stderr[-2000:])
    rows = list(csv.DictReader(open(Path(tmp) / name / "metrics.csv")))
    return statistics.median(float(r["samples_per_s"]) for r in rows[1:])  # epoch 1 warms caches


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--interval-ms", type=int, default=200)
    a = p.parse_args()
    off, on = [], []
    with tempfile.TemporaryDirectory(prefix="safetrain-monitor-") as tmp:
        for i in range(a.pairs):
            off.append(run(False, a.interval_ms, tmp, f"off{i}"))
            on.append(run(True, a.interval_ms, tmp, f"on{i}"))
    m_off, m_on = statistics.median(off), statistics.median(on)
    print(f"monitor off: {m_off:.0f} samples/s  on ({a.interval_ms} ms): {m_on:.0f} samples/s  "
          f"overhead {100 * (1 - m_on / m_off):+.2f}%  (pairs {a.pairs}; runs off {[round(x) for x in off]}, "
          f"on {[round(x) for x in on]})")


if __name__ == "__main__":
    main()
