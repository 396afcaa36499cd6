#!/usr/bin/env python3
"""Side by side on one CUDA GPU under one device budget: safetrain's trainer vs PyTorch Lightning
(bench/lightning_reference.py) vs shared/bench/torch_reference.py, on the seed transformer workload.

Same CSV, model (d_model 512, 8 heads, 4 layers, patch 4), batch 4, accumulation 4, clipping 0.5
(norm), Adam at a constant lr 1e-4, validation every epoch, 2 loader workers, and the same device
budget (memory.device_budget_mb / set_per_process_memory_fraction). Mixed precision compares
safetrain `training.precision 16` with Lightning `16-mixed`; fp32 compares all three
(torch_reference.py has no mixed precision).

Per side: train samples/s, torch.cuda.max_memory_allocated / max_memory_reserved (safetrain: the
same caching-allocator peaks, from memory_report.json), host peak RSS of the process (wait4), host
RSS and device allocated growth per epoch (last epoch minus the second, over the epochs between).
Prints a table with ratios safetrain / peer and writes the figures as JSON.

  python3 bench/gpu_side_by_side.py --build-dir build-cuda --out bench.json [--epochs 3 --rows 4000]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 2**20
WORKLOAD = dict(model="transformer", d_model=512, heads=8, layers=4, patch=4, batch=4, accumulate=4, clip=0.5,
                lr=1e-4, dropout=0.1, workers=2)

# torch_reference.py under the device budget, with the allocator's peaks printed at exit.
REFERENCE_WRAPPER = """
import json, runpy, sys, torch
budget_mb, script = float(sys.argv[1]), sys.argv[2]
if torch.cuda.is_available() and budget_mb > 0:
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction(min(1.0, budget_mb * 2**20 / total), 0)
sys.argv = sys.argv[2:]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    if torch.cuda.is_available():
        print(json.dumps({"cuda_max_allocated_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
                          "cuda_max_reserved_mb": round(torch.cuda.max_memory_reserved() / 2**20, 1)}), flush=True)
"""


def growth(values):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    return (values[-1] - values[min(1, len(values) - 1)]) / max(len(values) - 2, 1)


def run_measured(cmd, log_path, env=None):
    """Runs cmd; returns (exit code, peak RSS MB of that process from wait4, stdout)."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    with open(log_path, "a") as log:
        log.write(out)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024.0, out


def json_lines(out):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def python_side(name, cmd, workdir):
    code, peak, out = run_measured(cmd, workdir / f"{name}.log")
    lines = json_lines(out)
    summary = next((l for l in reversed(lines) if l.get("summary")), {})
    peaks = next((l for l in reversed(lines) if "cuda_max_allocated_mb" in l), {})
    epochs = [l for l in lines if "epoch" in l]
    return dict(exit=code, samples_per_s=summary.get("train_samples_per_s"),
                max_allocated_mb=peaks.get("cuda_max_allocated_mb"), max_reserved_mb=peaks.get("cuda_max_reserved_mb"),
                peak_rss_mb=round(peak, 1), rss_growth=growth([l.get("rss_mb") for l in epochs]),
                device_growth=growth([l.get("cuda_allocated_mb") for l in epochs]),
                val_mse=next((l["val_mse"] for l in reversed(epochs) if "val_mse" in l), None))


def reference_args(a, data):
    w = WORKLOAD
    return ["--csv", str(data), "--model", w["model"], "--d-model", str(w["d_model"]), "--heads", str(w["heads"]),
            "--layers", str(w["layers"]), "--patch", str(w["patch"]), "--batch-size", str(w["batch"]),
            "--accumulate", str(w["accumulate"]), "--clip", str(w["clip"]), "--lr", str(w["lr"]),
            "--dropout", str(w["dropout"]), "--epochs", str(a.epochs), "--val-every", "1",
            "--workers", str(w["workers"])]


def safetrain_side(a, name, data, precision, workdir):
    w = WORKLOAD
    sets = {
        "data.source": "csv", "data.path": str(data), "data.targets": "target_", "descriptors.enabled": "false",
        "data.num_workers": str(w["workers"]), "model.type": w["model"], "model.dropout": str(w["dropout"]),
        "model.d_model": str(w["d_model"]), "model.num_heads": str(w["heads"]), "model.num_layers": str(w["layers"]),
        "model.patch_size": str(w["patch"]), "model.token_type": "patch", "model.dim_feedforward": "0",
        "training.batch_size": str(w["batch"]), "training.accumulate_grad_batches": str(w["accumulate"]),
        "training.gradient_clip_val": str(w["clip"]), "training.max_epochs": str(a.epochs),
        "training.check_val_every_n_epoch": "1", "training.optimizer": "adam", "training.weight_decay": "0",
        "training.lr": str(w["lr"]), "training.scheduler": "none", "training.warmup_epochs": "0",
        "training.precision": precision, "training.device": "cuda", "training.early_stopping": "false",
        "memory.device_budget_mb": str(a.device_budget_mb), "output.dir": str(workdir / "runs"),
        "output.run_name": name, "logging.progress": "off",
    }
    cmd = [str(Path(a.build_dir) / "tools" / "trainer"), "--config", str(ROOT / "configs" / "safe_training.yaml")]
    for key, value in sets.items():
        cmd += ["--set", f"{key}={value}"]
    code, peak, _ = run_measured(cmd, workdir / f"{name}.log")
    run_dir = workdir / "runs" / name
    metrics = list(csv.DictReader(open(run_dir / "metrics.csv"))) if (run_dir / "metrics.csv").exists() else []
    memory = list(csv.DictReader(open(run_dir / "memory.csv"))) if (run_dir / "memory.csv").exists() else []
    report = json.load(open(run_dir / "memory_report.json")) if (run_dir / "memory_report.json").exists() else {}
    speeds = [float(r["samples_per_s"]) for r in metrics if r.get("samples_per_s")]
    allocated = [float(r["cuda_allocated_mb"]) for r in memory if r.get("event") == "epoch end" and r.get("cuda_allocated_mb")]
    return dict(exit=code, samples_per_s=round(sum(speeds) / len(speeds), 1) if speeds else None,
                max_allocated_mb=report.get("device_max_allocated_mb"), max_reserved_mb=report.get("device_max_reserved_mb"),
                peak_rss_mb=round(peak, 1), rss_growth=growth([float(r["rss_mb"]) for r in metrics]),
                device_growth=growth(allocated),
                val_mse=next((float(r["val_loss"]) for r in reversed(metrics) if r.get("val_loss")), None))


def ratio(ours, theirs):
    return round(ours / theirs, 3) if ours is not None and theirs else None


def table(results, pairs):
    rows = ["| metric | " + " | ".join(results) + " | " + " | ".join(f"{o}/{t}" for o, t in pairs) + " |",
            "|---" * (1 + len(results) + len(pairs)) + "|"]
    for metric in ["samples_per_s", "max_allocated_mb", "max_reserved_mb", "peak_rss_mb", "rss_growth",
                   "device_growth", "val_mse", "exit"]:
        cells = [str(results[side].get(metric)) for side in results]
        cells += [str(ratio(results[o].get(metric), results[t].get(metric))) for o, t in pairs]
        rows.append(f"| {metric} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default="build-cuda")
    p.add_argument("--reference-dir", default=str(ROOT / "shared" / "bench"))
    p.add_argument("--rows", type=int, default=4000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--device-budget-mb", type=float, default=4096)
    p.add_argument("--out", default="gpu_side_by_side.json")
    p.add_argument("--markdown", default="", help="also write the table here")
    a = p.parse_args()
    reference_dir = Path(a.reference_dir)
    with tempfile.TemporaryDirectory(prefix="safetrain-gpu-bench-") as tmp:
        workdir = Path(tmp)
        data = workdir / "bench.csv"
        subprocess.run([sys.executable, str(reference_dir / "make_bench_data.py"), "--rows", str(a.rows),
                        "--out", str(data)], check=True)
        lightning = [sys.executable, str(ROOT / "bench" / "lightning_reference.py"), "--reference-dir",
                     str(reference_dir), "--device-budget-mb", str(a.device_budget_mb)] + reference_args(a, data)
        reference = [sys.executable, "-c", REFERENCE_WRAPPER, str(a.device_budget_mb),
                     str(reference_dir / "torch_reference.py")] + reference_args(a, data)
        results = {}
        started = time.strftime("%Y-%m-%d %H:%M")
        # Mixed precision first (the targets), then fp32; each side once, one after the other.
        results["safetrain_16"] = safetrain_side(a, "safetrain_16", data, "16", workdir)
        results["lightning_16"] = python_side("lightning_16", lightning + ["--precision", "16-mixed"], workdir)
        results["safetrain_32"] = safetrain_side(a, "safetrain_32", data, "32", workdir)
        results["reference_32"] = python_side("reference_32", reference, workdir)
        results["lightning_32"] = python_side("lightning_32", lightning + ["--precision", "32-true"], workdir)
        pairs = [("safetrain_16", "lightning_16"), ("safetrain_32", "reference_32"), ("safetrain_32", "lightning_32")]
        text = (f"side by side, {started}, rows {a.rows}, {a.epochs} epochs, device budget {a.device_budget_mb:.0f} MB, "
                f"workload {json.dumps(WORKLOAD)}\n\n" + table(results, pairs))
        print(text)
        for name in results:  # the logs of failed sides, for the summary
            if results[name]["exit"] != 0:
                print(f"\n--- {name} failed; its log ends:\n" + (workdir / f"{name}.log").read_text()[-3000:])
        json.dump({"started": started, "rows": a.rows, "epochs": a.epochs, "device_budget_mb": a.device_budget_mb,
                   "workload": WORKLOAD, "results": results,
                   "ratios": {f"{o}/{t}": {m: ratio(results[o].get(m), results[t].get(m))
                                          for m in ["samples_per_s", "max_allocated_mb", "max_reserved_mb", "peak_rss_mb"]}
                              for o, t in pairs}}, open(a.out, "w"), indent=1)
        if a.markdown:
            Path(a.markdown).write_text(text + "\n")
    return 0 if all(r["exit"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
