#!/usr/bin/env python3
"""Checks one trainer run of tools/gpu_check.sh against issue 20's criteria (standard library only).

  gpu_check_analyze.py budget RUN_DIR [--markdown]   >= 6 epochs, loss falls, cuda_allocated_mb at
                                                      every epoch end equal to the first's, scaler
  gpu_check_analyze.py leak   RUN_DIR [--markdown]   a device growth warning by epoch 5
  gpu_check_analyze.py clean  RUN_DIR [--markdown]   no growth warning
  gpu_check_analyze.py oom    RUN_DIR LOG [--markdown]  a clean out-of-memory stop (exit 3), no crash

Prints the figures and exits 1 when a criterion fails; --markdown prints one summary line instead
(and always exits 0) for $OUT/summary.md.
"""
import argparse
import csv
import glob
import json
import os
import re
import sys

# Epoch-end allocations print with one decimal: "equal" is equal at that resolution.
ALLOCATED_TOLERANCE_MB = 0.1


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def read_csv(path):
    try:
        with open(path) as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def epoch_end_allocated(run_dir):
    """cuda_allocated_mb of each 'epoch end' sample in memory.csv (None where not recorded)."""
    rows = read_csv(os.path.join(run_dir, "memory.csv"))
    return [number(r.get("cuda_allocated_mb")) for r in rows if r.get("event") == "epoch end"]


def scaler_state(run_dir):
    """The loss scaler in the newest checkpoint's state.json: (scale, skipped_steps) or (None, None)."""
    states = sorted(glob.glob(os.path.join(run_dir, "checkpoints", "*", "state.json")), key=os.path.getmtime)
    scaler = read_json(states[-1]).get("scaler", {}) if states else {}
    return scaler.get("scale"), scaler.get("skipped_steps")


def growth_warnings(run_dir, what):
    report = read_json(os.path.join(run_dir, "memory_report.json"))
    return [w for w in report.get("warnings", []) if w.startswith(f"{what} memory grows")]


def check_budget(run_dir):
    metrics = read_csv(os.path.join(run_dir, "metrics.csv"))
    losses = [number(r["train_loss"]) for r in metrics]
    allocated = epoch_end_allocated(run_dir)
    report = read_json(os.path.join(run_dir, "memory_report.json"))
    final = read_json(os.path.join(run_dir, "metrics.json"))
    scale, skipped = scaler_state(run_dir)
    known = [a for a in allocated if a is not None]
    spread = max(abs(a - known[0]) for a in known) if known else None
    figures = {
        "epochs": len(metrics), "train_loss_first": losses[0] if losses else None,
        "train_loss_last": losses[-1] if losses else None, "epoch_end_cuda_allocated_mb": allocated,
        "allocated_spread_mb": spread, "loss_scale": scale,
        "skipped_steps": final.get("loss_scaler_skipped_steps", skipped),
        "device_max_allocated_mb": report.get("device_max_allocated_mb"),
        "device_max_reserved_mb": report.get("device_max_reserved_mb"),
        "peak_rss_mb": report.get("peak_rss_mb"), "verdict": report.get("verdict"),
        "samples_per_s": [number(r.get("samples_per_s")) for r in metrics],
    }
    failures = []
    if len(metrics) < 6:
        failures.append(f"{len(metrics)} epochs, not >= 6")
    if len(losses) < 2 or not losses[-1] < losses[0]:
        failures.append("the training loss did not fall")
    if len(known) < len(metrics) or not known:
        failures.append("cuda_allocated_mb missing at an epoch end")
    elif spread > ALLOCATED_TOLERANCE_MB:
        failures.append(f"epoch-end cuda_allocated_mb differs from the first by up to {spread:.1f} MB")
    if str(report.get("verdict", "")).startswith("stopped"):
        failures.append(f"the monitor stopped the run: {report['verdict']}")
    return figures, failures


def check_leak(run_dir):
    warnings = growth_warnings(run_dir, "device")
    epochs = [int(m.group(1)) for w in warnings for m in [re.search(r"over epochs \d+-(\d+)", w)] if m]
    figures = {"device_warnings": warnings, "flagged_at_epoch": min(epochs) if epochs else None,
               "device_growth_mb_per_epoch": read_json(os.path.join(run_dir, "memory_report.json"))
               .get("device_growth_mb_per_epoch")}
    failures = [] if epochs and min(epochs) <= 5 else ["the planted device leak was not flagged by epoch 5"]
    return figures, failures


def check_clean(run_dir):
    report = read_json(os.path.join(run_dir, "memory_report.json"))
    warnings = growth_warnings(run_dir, "device") + growth_warnings(run_dir, "host")
    figures = {"verdict": report.get("verdict"), "growth_warnings": warnings,
               "device_growth_mb_per_epoch": report.get("device_growth_mb_per_epoch"),
               "growth_mb_per_epoch": report.get("growth_mb_per_epoch")}
    failures = []
    if not report:
        failures.append("no memory_report.json")
    if warnings:
        failures.append("a clean run was flagged as growing")
    return figures, failures


def check_oom(run_dir, log_path):
    try:
        with open(log_path, errors="replace") as f:
            log = f.read()
    except OSError:
        log = ""
    exit_code = re.findall(r"trainer exit (\d+)", log)
    crashed = re.search(r"Segmentation fault|core dumped|terminate called|Aborted", log)
    figures = {"exit": int(exit_code[-1]) if exit_code else None,
               "mentions_out_of_memory": "out of memory" in log.lower(),
               "checkpoint_saved": bool(glob.glob(os.path.join(run_dir, "checkpoints", "*", "state.json"))),
               "crash_marker": crashed.group(0) if crashed else None}
    failures = []
    if figures["exit"] != 3:
        failures.append(f"exit {figures['exit']}, not 3 (clean resource stop)")
    if not figures["mentions_out_of_memory"]:
        failures.append("the log does not mention the out-of-memory stop")
    if crashed:
        failures.append(f"crash marker in the log: {crashed.group(0)}")
    return figures, failures


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("check", choices=["budget", "leak", "clean", "oom"])
    p.add_argument("run_dir")
    p.add_argument("log", nargs="?", default="")
    p.add_argument("--markdown", action="store_true")
    a = p.parse_args(argv)
    if a.check == "oom":
        figures, failures = check_oom(a.run_dir, a.log)
    else:
        figures, failures = {"budget": check_budget, "leak": check_leak, "clean": check_clean}[a.check](a.run_dir)
    if a.markdown:
        status = "pass" if not failures else "FAIL: " + "; ".join(failures)
        print(f"- **{a.check}** ({status}): `{json.dumps(figures)}`")
        return 0
    print(json.dumps(figures, indent=1))
    for failure in failures:
        print(f"FAIL: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
