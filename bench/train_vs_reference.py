#!/usr/bin/env python3
"""Side-by-side training benchmark: safetrain's trainer vs shared/bench/torch_reference.py.

Generates the data with shared/bench/make_bench_data.py, then runs both trainers
alternately (A/B/A/B...) on the same CSV, model, batch size, optimizer (Adam, no
weight decay, constant lr), accumulation, clipping, validation schedule and
thread count, and prints train samples/s, peak RSS (from wait4 of each child),
RSS growth per epoch and final val MSE, with ratios ours/reference.

  python3 bench/train_vs_reference.py [--workload mlp|transformer|all] [--repeats 2]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SAFETRAIN_SHARED", ROOT.parent / "shared")) / "bench"
# Debian's python3 has python3-torch (the same LibTorch 1.13 kernels); a pyenv python on PATH may not.
PYTHON = os.environ.get("SAFETRAIN_PYTHON", "/usr/bin/python3")

WORKLOADS = {
    "mlp": dict(rows=100_000, model="mlp", hidden=256, layers=2, batch=64, accumulate=1, clip=0.0, epochs=2,
                lr=1e-3, dropout=0.0),
    "transformer": dict(rows=4_000, model="transformer", d_model=512, heads=8, layers=4, patch=4, batch=4,
                        accumulate=4, clip=0.5, epochs=1, lr=1e-4, dropout=0.1),
}


# Both sides run with the policy safetrain's executables choose for themselves: with spinning OpenMP
# threads, 2-thread runs on a 2-core machine collapse (see src/common/openmp_policy.hpp).
ENV = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))


def run_measured(cmd, log_path):
    """Runs cmd, returns (seconds, peak RSS MB of that child alone, stdout)."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=ENV)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{cmd[0]} failed with {code}; see {log_path}")
    return seconds, usage.ru_maxrss / 1024.0, out


def reference(w, data, threads, workdir):
    cmd = [PYTHON, str(SHARED / "torch_reference.py"), "--csv", str(data), "--model", w["model"],
           "--batch-size", str(w["batch"]), "--accumulate", str(w["accumulate"]), "--clip", str(w["clip"]),
           "--lr", str(w["lr"]), "--epochs", str(w["epochs"]), "--val-every", "1", "--workers", "2",
           "--threads", str(threads), "--dropout", str(w["dropout"])]
    if w["model"] == "mlp":
        cmd += ["--hidden", str(w["hidden"]), "--layers", str(w["layers"])]
    else:
        cmd += ["--d-model", str(w["d_model"]), "--heads", str(w["heads"]), "--layers", str(w["layers"]),
                "--patch", str(w["patch"])]
    _, peak, out = run_measured(cmd, workdir / "reference.log")
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    summary = lines[-1]
    vals = [l["val_mse"] for l in lines if "val_mse" in l]
    return dict(samples_per_s=summary["train_samples_per_s"], peak_rss_mb=peak,
                growth=summary["rss_growth_mb_per_epoch"], val_mse=vals[-1])


def ours(w, data, threads, workdir, run_name):
    trainer = ROOT / os.environ.get("BUILD_DIR", "build") / "tools" / "trainer"
    sets = {
        "data.source": "csv", "data.path": str(data), "data.targets": "target_", "descriptors.enabled": "false",
        "data.num_workers": "2", "model.type": w["model"], "model.dropout": str(w["dropout"]),
        "training.batch_size": str(w["batch"]), "training.accumulate_grad_batches": str(w["accumulate"]),
        "training.gradient_clip_val": str(w["clip"]), "training.max_epochs": str(w["epochs"]),
        "training.check_val_every_n_epoch": "1", "training.optimizer": "adam", "training.weight_decay": "0",
        "training.lr": str(w["lr"]), "training.scheduler": "none", "training.warmup_epochs": "0",
        "training.precision": "32", "training.threads": str(threads), "training.early_stopping": "false",
        "output.dir": str(workdir / "runs"), "output.run_name": run_name, "logging.progress": "off",
        "data.synthetic.rows": "10",
        # The reference trains on raw targets: compare like with like (the default standardises them).
        "data.standardize_targets": "false",
    }
    if w["model"] == "mlp":
        sets.update({"model.hidden": str(w["hidden"]), "model.mlp_layers": str(w["layers"])})
    else:
        sets.update({"model.d_model": str(w["d_model"]), "model.num_heads": str(w["heads"]),
                     "model.num_layers": str(w["layers"]), "model.patch_size": str(w["patch"]),
                     "model.token_type": "patch", "model.dim_feedforward": "0"})
    cmd = [str(trainer), "--config", str(ROOT / "configs" / "safe_training.yaml")]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    _, peak, _ = run_measured(cmd, workdir / f"{run_name}.log")
    run_dir = workdir / "runs" / run_name
    rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
    rss = [float(r["rss_mb"]) for r in rows]
    growth = (rss[-1] - rss[min(1, len(rss) - 1)]) / max(len(rss) - 2, 1)
    return dict(samples_per_s=statistics.mean(float(r["samples_per_s"]) for r in rows), peak_rss_mb=peak,
                growth=growth, val_mse=float(rows[-1]["val_loss"]))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=["mlp", "transformer", "all"], default="all")
    p.add_argument("--repeats", type=int, default=2, help="A/B pairs per workload")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--rows", type=int, default=0, help="override the workload's row count (quick checks)")
    a = p.parse_args()
    names = list(WORKLOADS) if a.workload == "all" else [a.workload]
    with tempfile.TemporaryDirectory(prefix="safetrain-bench-") as tmp:
        workdir = Path(tmp)
        print(f"# {time.strftime('%Y-%m-%d')}  {os.cpu_count()} cores, threads={a.threads}, "
              f"repeats={a.repeats}, alternating reference/safetrain, OMP_WAIT_POLICY={ENV['OMP_WAIT_POLICY']}")
        print(f"{'workload':12} {'metric':22} {'reference':>12} {'safetrain':>12} {'ratio':>8}")
        for name in names:
            w = dict(WORKLOADS[name])
            if a.rows:
                w["rows"] = a.rows
            data = workdir / f"{name}.csv"
            subprocess.run([PYTHON, str(SHARED / "make_bench_data.py"), "--rows", str(w["rows"]),
                            "--out", str(data)], check=True)
            results = {"reference": [], "safetrain": []}
            for i in range(a.repeats):
                results["reference"].append(reference(w, data, a.threads, workdir))
                results["safetrain"].append(ours(w, data, a.threads, workdir, f"{name}-{i}"))
            for metric, label in [("samples_per_s", "train samples/s"), ("peak_rss_mb", "peak RSS MB"),
                                  ("growth", "RSS growth MB/epoch"), ("val_mse", "final val MSE")]:
                ref = statistics.median(r[metric] for r in results["reference"])
                our = statistics.median(r[metric] for r in results["safetrain"])
                ratio = f"{our / ref:8.2f}" if ref else "     n/a"
                print(f"{name:12} {label:22} {ref:12.4g} {our:12.4g} {ratio}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
