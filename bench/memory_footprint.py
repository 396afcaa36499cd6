#!/usr/bin/env python3
"""Memory footprint side by side: safetrain's trainer vs shared/bench/torch_reference.py.

For each table size (default 100,000 and 1,000,000 rows x 70 columns from make_bench_data.py: 64
features, 6 targets) both trainers run the MLP workload (64-256-256-6, batch 64, Adam, 1 epoch,
validation, 2 threads, 2 loader workers) on the same CSV, one after the other, and the script prints:

  baseline RSS   peak RSS of the runtime alone: `trainer --help` (LibTorch) and
                 `python3 -c "import numpy, torch"` plus the reference's imports
  peak RSS       peak RSS of the training run (wait4 of that child)
  above          peak - baseline: what the run added to its runtime
  data bytes     float32 bytes of the used columns (rows x 70 x 4)
  ratio          above / data bytes

and, for safetrain, the peak when the load phase ended (memory.csv's peak_rss_mb at its first
sample after `load`). Targets of issue 17: ours <= 1.3x the data, and <= 0.5x the reference's
peak above baseline.

With --mmap it also runs safetrain twice more with data.storage: mmap (the first run converts the CSV into
its cache files, the second maps them) and prints the anonymous RSS (memory.csv's rss_anon_mb: mapped file
pages excluded) above the monitor's first sample, against issue 17's target of 64 MB + the model state.

With --check-estimate it also runs safetrain alone on the MLP workload (100k rows) at batch 64, 256 and
1024, the transformer workload of bench/train_vs_reference.py (d512, 8 heads, 4 layers, patch 4, 4k rows)
at batch 4, 8 and 16, and the MLP on every --rows table, and sets the per-phase memory forecast the
trainer logs before loading (src/models/memory_forecast.cpp) against memory_report.json's measured peak
of each phase, both above the runtime (issue 30's target: every phase within 15 %), and the whole run's
peak on the 100k-row table against 1.3x the data + 16 MB.

  python3 bench/memory_footprint.py [--rows 100000 1000000] [--data-dir DIR] [--epochs 1] [--mmap] [--check-estimate]
  python3 bench/memory_footprint.py --rows --check-estimate --only 'mlp b1024' --keep /tmp/runs   # one workload
"""
import json
import re
import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# shared/ sits beside the checkout (or beside a worktree's parent folder).
SHARED = Path(os.environ.get("SAFETRAIN_SHARED", next(
    (p / "shared" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "bench").is_dir()),
    ROOT.parent / "shared"))) / "bench"
PYTHON = os.environ.get("SAFETRAIN_PYTHON", "/usr/bin/python3")
TRAINER = ROOT / os.environ.get("BUILD_DIR", "build") / "tools" / "trainer"
ENV = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
FEATURES, TARGETS = 64, 6
MB = 1024.0 * 1024.0


def peak_of(cmd, log_path):
    """Runs cmd; returns (peak RSS MB of that child alone, seconds)."""
    start = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed ({os.waitstatus_to_exitcode(status)}):\n"
                 + Path(log_path).read_text()[-3000:])
    return usage.ru_maxrss / 1024.0, time.perf_counter() - start


def make_csv(rows, data_dir):
    path = Path(data_dir) / f"bench_{rows}x{FEATURES + TARGETS}.csv"
    if not path.exists():  # generated once and kept: the 1M-row file takes minutes to write
        tmp = path.with_suffix(".tmp")
        subprocess.run([PYTHON, str(SHARED / "make_bench_data.py"), "--rows", str(rows), "--features",
                        str(FEATURES), "--targets", str(TARGETS), "--out", str(tmp)], check=True)
        tmp.rename(path)
    return path


def reference(data, epochs, workdir):
    base, _ = peak_of([PYTHON, "-c", "import numpy, torch; from torch import nn; "
                       "from torch.utils.data import DataLoader, TensorDataset"], workdir / "ref_base.log")
    cmd = [PYTHON, str(SHARED / "torch_reference.py"), "--csv", str(data), "--model", "mlp", "--hidden", "256",
           "--layers", "2", "--batch-size", "64", "--lr", "1e-3", "--epochs", str(epochs), "--val-every", "1",
           "--workers", "2", "--threads", "2", "--dropout", "0"]
    peak, seconds = peak_of(cmd, workdir / "reference.log")
    return dict(baseline=base, peak=peak, load_peak=None, seconds=seconds)


def load_phase_peak(memory_csv):
    """peak_rss_mb at the first sample after the load phase (the process's peak up to then)."""
    seen_load = False
    for row in csv.DictReader(open(memory_csv)):
        if row["phase"] == "load":
            seen_load = True
        elif seen_load:
            return float(row["peak_rss_mb"])
    return None


def ours(data, epochs, workdir, name, extra=None):
    base, _ = peak_of([str(TRAINER), "--help"], workdir / "ours_base.log")
    sets = {
        "data.source": "csv", "data.path": str(data), "data.targets": "target_", "descriptors.enabled": "false",
        "data.num_workers": "2", "model.type": "mlp", "model.hidden": "256", "model.mlp_layers": "2",
        "model.dropout": "0", "training.batch_size": "64", "training.accumulate_grad_batches": "1",
        "training.gradient_clip_val": "0", "training.max_epochs": str(epochs), "training.check_val_every_n_epoch": "1",
        "training.optimizer": "adam", "training.weight_decay": "0", "training.lr": "1e-3",
        "training.scheduler": "none", "training.warmup_epochs": "0", "training.precision": "32",
        "training.threads": "2", "training.early_stopping": "false", "output.dir": str(workdir / "runs"),
        "output.run_name": name, "logging.progress": "off", "data.standardize_targets": "false",
        "monitor.interval_ms": "50",
    }
    sets.update(extra or {})
    cmd = [str(TRAINER), "--config", str(ROOT / "configs" / "safe_training.yaml")]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    peak, seconds = peak_of(cmd, workdir / f"{name}.log")
    return dict(baseline=base, peak=peak, load_peak=load_phase_peak(workdir / "runs" / name / "memory.csv"),
                seconds=seconds)


def anonymous_above_start(run_dir):
    """Largest rss_anon_mb sampled minus the first sample's (the runtime before any data), and the model state."""
    rows = list(csv.DictReader(open(run_dir / "memory.csv")))
    anon = [float(r["rss_anon_mb"]) for r in rows if r["rss_anon_mb"]]
    state = json.load(open(run_dir / "memory_report.json"))["peak_breakdown"].get("model_state_mb", 0.0)
    return max(anon) - anon[0], state


def show_mmap(data, epochs, workdir, rows):
    for attempt in ("converts the CSV", "maps the cache"):
        name = f"mmap_{rows}_{attempt.split()[0]}"
        own = ours(data, epochs, workdir, name, {"data.storage": "mmap"})
        above, state = anonymous_above_start(workdir / "runs" / name)
        verdict = "met" if above <= 64 + state else "MISSED"
        print(f"data.storage: mmap, run that {attempt}: peak RSS {own['peak']:.1f} MB; anonymous RSS above the first "
              f"sample {above:.1f} MB (model state {state:.1f} MB): <= 64 MB + model state {verdict}; "
              f"{own['seconds']:.1f} s")


TRANSFORMER = {"model.type": "transformer", "model.d_model": "512", "model.num_heads": "8", "model.num_layers": "4",
               "model.patch_size": "4", "model.token_type": "patch", "model.dim_feedforward": "0",
               "model.dropout": "0.1", "training.batch_size": "4", "training.accumulate_grad_batches": "4",
               "training.gradient_clip_val": "0.5", "training.lr": "1e-4"}


PHASES = ("load", "train", "validate", "checkpoint", "test", "importance", "plot")


def forecast_workloads(table_rows):
    """(name, rows, overrides): the MLP and the transformer at three batch sizes each, then the MLP on each table."""
    out = [(f"mlp b{b}", 100_000, {"training.batch_size": str(b)}) for b in (64, 256, 1024)]
    # One shuffle per feature: the transformer's importance pass is minutes on a CPU otherwise.
    out += [(f"transformer b{b}", 4_000, dict(TRANSFORMER, **{"training.batch_size": str(b), "importance.repeats": "1"}))
            for b in (4, 8, 16)]
    out += [(f"mlp {r // 1000}k rows", r, {}) for r in table_rows if r != 100_000]
    return out


def check_forecast(data_dir, workdir, table_rows, only=None):
    """The trainer's per-phase forecast (logged before loading) against each phase's measured peak, both above
    the runtime, from memory_report.json's phase_peaks (VmHWM where the phase set the process peak, else the
    monitor's samples 20 ms apart)."""
    print("\n## memory forecast vs measured, per phase (safetrain alone; MB above the runtime; ok = within 15 %)")
    print(f"{'workload':20} " + " ".join(f"{p:>17}" for p in PHASES))
    misses = total = 0
    for name, rows, extra in forecast_workloads(table_rows):
        if only and not any(name.startswith(o) for o in only):
            continue
        data = make_csv(rows, data_dir)
        run = f"fc_{name.replace(' ', '_')}"
        ours(data, 1, workdir, run, dict(extra, **{"training.limit_train_batches": "100", "monitor.interval_ms": "20"}))
        report = json.load(open(workdir / "runs" / run / "memory_report.json"))
        cells = []
        for phase in PHASES:
            p = report["phase_peaks"].get(phase)
            if not p or "forecast_mb" not in p:
                cells.append(f"{'-':>17}")
                continue
            ratio = p["above_runtime_mb"] / p["forecast_mb"]
            ok = abs(ratio - 1) <= 0.15
            misses += not ok
            total += 1
            cells.append(f"{p['forecast_mb']:6.1f}/{p['above_runtime_mb']:6.1f} {'ok' if ok else 'X ':>2}")
        print(f"{name:20} " + " ".join(cells))
        if rows == 100_000 and name.startswith("mlp b64"):
            whole = report["peak_rss_mb"] - report["peak_breakdown"]["runtime_baseline_mb"]
            data_mb = report["peak_breakdown"]["data_mb"]
            target = 1.3 * data_mb + 16
            print(f"{'':20} whole run: {whole:.1f} MB above the runtime for {data_mb:.1f} MB of data; "
                  f"target <= 1.3x data + 16 MB = {target:.1f}: {'met' if whole <= target else 'MISSED'}")
    print(f"cells are forecast/measured MB; {total - misses} of {total} phases within 15 % of the forecast")


def show(rows, data_mb, ref, own):
    print(f"\n## {rows:,} rows x {FEATURES + TARGETS} columns: float32 data {data_mb:.1f} MB")
    print(f"{'':30} {'reference':>12} {'safetrain':>12} {'ours/ref':>9}")
    above_ref, above_own = ref["peak"] - ref["baseline"], own["peak"] - own["baseline"]
    lines = [("baseline RSS (runtime alone)", ref["baseline"], own["baseline"]),
             ("peak RSS", ref["peak"], own["peak"]),
             ("peak above baseline", above_ref, above_own),
             ("data bytes (MB)", data_mb, data_mb)]
    for label, r, o in lines:
        print(f"{label:30} {r:12.1f} {o:12.1f} {o / r if r else float('nan'):9.2f}")
    print(f"{'above / data bytes':30} {above_ref / data_mb:12.2f} {above_own / data_mb:12.2f}")
    if own["load_peak"] is not None:
        load_above = own["load_peak"] - own["baseline"]
        print(f"{'safetrain load-phase peak':30} {'':12} {own['load_peak']:12.1f}   "
              f"above baseline {load_above:.1f} MB = {load_above / data_mb:.2f}x data")
    print(f"{'wall seconds':30} {ref['seconds']:12.1f} {own['seconds']:12.1f}")
    verdict = lambda ok: "met" if ok else "MISSED"
    print(f"targets: ours <= 1.3x data: {verdict(above_own <= 1.3 * data_mb)}; "
          f"ours <= 0.5x reference above baseline: {verdict(above_own <= 0.5 * above_ref)}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000],
                   help="table sizes; none with --check-estimate runs only the estimate check")
    p.add_argument("--data-dir", default=os.path.join(tempfile.gettempdir(), "safetrain-bench-data"))
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--mmap", action="store_true", help="also run safetrain with data.storage: mmap")
    p.add_argument("--check-estimate", action="store_true",
                   help="also check the per-phase memory forecast against each phase's measured peak")
    p.add_argument("--only", nargs="*", help="with --check-estimate: only the workloads whose name starts with one of "
                   "these, e.g. 'mlp b1024' 'transformer b16' (with --rows and no table sizes)")
    p.add_argument("--keep", help="with --check-estimate: write the runs under this folder and keep them")
    a = p.parse_args()
    if not TRAINER.exists():
        sys.exit(f"{TRAINER} not built")
    os.makedirs(a.data_dir, exist_ok=True)
    print(f"# {time.strftime('%Y-%m-%d')}  {os.cpu_count()} cores, MLP 64-256-256-6, batch 64, {a.epochs} epoch(s), "
          f"2 threads, 2 loader workers, OMP_WAIT_POLICY={ENV['OMP_WAIT_POLICY']}")
    for rows in a.rows:
        data = make_csv(rows, a.data_dir)
        with tempfile.TemporaryDirectory(prefix="safetrain-memory-") as tmp:
            workdir = Path(tmp)
            ref = reference(data, a.epochs, workdir)
            own = ours(data, a.epochs, workdir, f"mem_{rows}")
            show(rows, rows * (FEATURES + TARGETS) * 4 / MB, ref, own)
            if a.mmap:
                show_mmap(data, a.epochs, workdir, rows)
    if a.check_estimate:
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            check_forecast(a.data_dir, Path(a.keep), a.rows, a.only)
            return
        with tempfile.TemporaryDirectory(prefix="safetrain-estimate-") as tmp:
            check_forecast(a.data_dir, Path(tmp), a.rows, a.only)


if __name__ == "__main__":
    main()
