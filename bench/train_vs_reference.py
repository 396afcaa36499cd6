#!/usr/bin/env python3
"""Side-by-side training benchmark on one LibTorch: safetrain's trainer vs shared/bench/torch_reference.py
(plain PyTorch) vs bench/lightning_reference.py (PyTorch Lightning's Trainer, precision 32-true).

Generates the data with shared/bench/make_bench_data.py, then runs the three alternately
(reference, Lightning, safetrain, reference, ...) on the same CSV, model, batch size, optimizer (Adam,
no weight decay, constant lr), accumulation, clipping, validation schedule and thread count, on the
CPU, and prints train samples/s, peak RSS above each runtime's own baseline (the peak, from wait4, of
the same process importing torch (and Lightning) or of `trainer --help`), RSS growth per epoch and
final val MSE, with the ratios safetrain/Lightning and safetrain/reference. The Python sides run on the
pip torch that safetrain's C++ build links (tools/requirements.txt, the venv of tools/build_env.sh).

  SAFETRAIN_PYTHON=~/.cache/safetrain/venv/bin/python \
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
# The venv of tools/build_env.sh: the same torch wheel whose LibTorch the trainer links.
PYTHON = os.environ.get("SAFETRAIN_PYTHON",
                        str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "safetrain/venv/bin/python"))
BASELINES = {  # the runtime alone, per side: what each run's peak is measured above
    "reference": [PYTHON, "-c", "import numpy, torch; from torch import nn; from torch.utils.data import DataLoader"],
    "lightning": [PYTHON, "-c", "import numpy, torch, pytorch_lightning; from torch.utils.data import DataLoader"],
}

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


def python_side(script, w, data, threads, workdir, extra):
    cmd = [PYTHON, str(script), "--csv", str(data), "--model", w["model"],
           "--batch-size", str(w["batch"]), "--accumulate", str(w["accumulate"]), "--clip", str(w["clip"]),
           "--lr", str(w["lr"]), "--epochs", str(w["epochs"]), "--val-every", "1", "--workers", "2",
           "--threads", str(threads), "--dropout", str(w["dropout"])] + extra
    if w["model"] == "mlp":
        cmd += ["--hidden", str(w["hidden"]), "--layers", str(w["layers"])]
    else:
        cmd += ["--d-model", str(w["d_model"]), "--heads", str(w["heads"]), "--layers", str(w["layers"]),
                "--patch", str(w["patch"])]
    _, peak, out = run_measured(cmd, workdir / f"{Path(script).stem}.log")
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    summary = lines[-1]
    vals = [l["val_mse"] for l in lines if "val_mse" in l]
    return dict(samples_per_s=summary["train_samples_per_s"], peak_rss_mb=peak,
                growth=summary["rss_growth_mb_per_epoch"], val_mse=vals[-1])


def reference(w, data, threads, workdir):
    return python_side(SHARED / "torch_reference.py", w, data, threads, workdir, [])


def lightning(w, data, threads, workdir):
    return python_side(ROOT / "bench" / "lightning_reference.py", w, data, threads, workdir,
                       ["--reference-dir", str(SHARED), "--precision", "32-true"])


def baseline(side, workdir):
    if side == "safetrain":
        cmd = [str(ROOT / os.environ.get("BUILD_DIR", "build") / "tools" / "trainer"), "--help"]
    else:
        cmd = BASELINES[side]
    return run_measured(cmd, workdir / f"{side}_baseline.log")[1]


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


SIDES = {"reference": reference, "lightning": lightning, "safetrain": None}
METRICS = [("samples_per_s", "train samples/s"), ("above_mb", "peak RSS above baseline MB"),
           ("growth", "RSS growth MB/epoch"), ("val_mse", "final val MSE")]


def versions():
    out = subprocess.run([PYTHON, "-c", "import torch, pytorch_lightning as L; print(torch.__version__, L.__version__)"],
                         capture_output=True, text=True, check=True).stdout.split()
    return f"torch {out[0]} (pip; safetrain links its LibTorch), pytorch-lightning {out[1]}"


def measure(name, w, data, threads, workdir, repeats, bases):
    results = {side: [] for side in SIDES}
    for i in range(repeats):
        for side, run in SIDES.items():
            r = run(w, data, threads, workdir) if run else ours(w, data, threads, workdir, f"{name}-{i}")
            r["above_mb"] = r["peak_rss_mb"] - bases[side]
            results[side].append(r)
    for metric, label in METRICS:
        med = {side: statistics.median(r[metric] for r in rs) for side, rs in results.items()}
        ratio = lambda other: f"{med['safetrain'] / med[other]:8.2f}" if med[other] else "     n/a"
        print(f"{name:12} {label:28} {med['reference']:11.4g} {med['lightning']:11.4g} {med['safetrain']:11.4g} "
              f"{ratio('lightning')} {ratio('reference')}")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=["mlp", "transformer", "all"], default="all")
    p.add_argument("--repeats", type=int, default=2, help="rounds of the three sides per workload")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--rows", type=int, default=0, help="override the workload's row count (quick checks)")
    a = p.parse_args()
    names = list(WORKLOADS) if a.workload == "all" else [a.workload]
    with tempfile.TemporaryDirectory(prefix="safetrain-bench-") as tmp:
        workdir = Path(tmp)
        bases = {side: baseline(side, workdir) for side in SIDES}
        print(f"# {time.strftime('%Y-%m-%d')}  {os.cpu_count()} cores, threads={a.threads}, repeats={a.repeats}, "
              f"alternating, OMP_WAIT_POLICY={ENV['OMP_WAIT_POLICY']}; {versions()}")
        print("# runtime baselines (peak RSS MB): " + ", ".join(f"{k} {v:.0f}" for k, v in bases.items()))
        print(f"{'workload':12} {'metric':28} {'reference':>11} {'lightning':>11} {'safetrain':>11} "
              f"{'/light.':>8} {'/ref.':>8}")
        for name in names:
            w = dict(WORKLOADS[name])
            if a.rows:
                w["rows"] = a.rows
            data = workdir / f"{name}.csv"
            subprocess.run([PYTHON, str(SHARED / "make_bench_data.py"), "--rows", str(w["rows"]),
                            "--out", str(data)], check=True)
            measure(name, w, data, a.threads, workdir, a.repeats, bases)


if __name__ == "__main__":
    main()
