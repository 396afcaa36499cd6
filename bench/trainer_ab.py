#!/usr/bin/env python3
"""Two builds of the trainer side by side on one MLP workload: did a change cost training speed?

Runs trainer A and trainer B alternately (A, B, A, B, ...) on the same config, so a machine that is
busier in one minute than the next slows both sides alike, and prints each run's median training
samples/s over epochs 2..N (metrics.csv's samples_per_s; epoch 1 warms the allocator and the thread
pool), the median over rounds per side, and B/A. Build A from the commit before the change, e.g.

  git worktree add /tmp/before <commit> && cmake -S /tmp/before -B /tmp/before/build ... --target trainer
  python3 bench/trainer_ab.py --a /tmp/before/build/tools/trainer --b build/tools/trainer [--rounds 5]

The workload is configs/quickstart.yaml's MLP on its synthetic table (30k rows) with the descriptor pruner,
the monitor and importance off (the sparse columns mean-filled), one intra-op thread: the training step
itself, not the start-up.
"""
import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(trainer, out_dir, name, epochs, extra):
    cmd = [str(trainer), "--config", str(ROOT / "configs" / "quickstart.yaml"),
           "--set", f"output.dir={out_dir}", "--set", f"output.run_name={name}",
           "--set", "data.synthetic.rows=30000", "--set", f"training.max_epochs={epochs}",
           "--set", "training.threads=1", "--set", "monitor.enabled=false", "--set", "logging.progress=off",
           "--set", "importance.enabled=false", "--set", "descriptors.enabled=false", "--set", "data.nan_policy=fill_mean",
           "--set", "training.early_stopping=false"]
    for item in extra:
        cmd += ["--set", item]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = list(csv.DictReader(open(Path(out_dir) / name / "metrics.csv")))
    return statistics.median(float(r["samples_per_s"]) for r in rows[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a", required=True, help="the trainer before the change")
    parser.add_argument("--b", required=True, help="the trainer after the change")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--set-b", action="append", default=[], help="extra --set for B only (e.g. logging.tensorboard=true)")
    args = parser.parse_args()
    if args.epochs < 2:
        sys.exit("--epochs must be at least 2 (epoch 1 is the warm-up)")
    a_runs, b_runs = [], []
    with tempfile.TemporaryDirectory(prefix="trainer_ab_") as out:
        for i in range(args.rounds):
            a_runs.append(run_once(args.a, out, f"a{i}", args.epochs, []))
            b_runs.append(run_once(args.b, out, f"b{i}", args.epochs, args.set_b))
            print(f"round {i + 1}: A {a_runs[-1]:,.0f}  B {b_runs[-1]:,.0f} samples/s", flush=True)
    a, b = statistics.median(a_runs), statistics.median(b_runs)
    spread = lambda runs: (max(runs) - min(runs)) / statistics.median(runs)
    print(f"median over {args.rounds} rounds: A {a:,.0f}  B {b:,.0f} samples/s;  B/A = {b / a:.3f}")
    print(f"spread (max-min)/median: A {spread(a_runs):.1%}  B {spread(b_runs):.1%} (differences inside it are noise)")


if __name__ == "__main__":
    main()
