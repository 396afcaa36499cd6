#!/usr/bin/env python3
"""Data-parallel scaling on this machine: 1 rank vs 2 ranks (Gloo over loopback), 1 intra-op thread each.

Trains the MLP workload (72 features -> 256-256 -> 6 targets on synthetic rows, Adam, validation every
epoch) with the trainer three ways, alternating repeats so machine noise is shared:
  1 rank,  batch 64
  2 ranks, batch 32 per rank (the same global batch of 64: same steps, half the rows per rank)
  2 ranks, batch 64 per rank (global batch 128: half the steps)
and prints train samples/s (all ranks together, from metrics.csv, epochs after the first), the scaling
efficiency (samples/s of 2 ranks / (2 x 1 rank)) and the share of each training pass spent in the
all-reduces (gradient buckets + the per-step stop flag), as the trainer logs it ("ddp: epoch E all-reduce").

  python3 bench/ddp_scaling.py [--rows 60000] [--epochs 3] [--repeats 2] [--trainer build/tools/trainer]
"""
import argparse
import csv
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))
SHARE = re.compile(r"all-reduce ([0-9.e+-]+) s of ([0-9.e+-]+) s training")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path, out_dir, rows, epochs):
    path.write_text(f"""extends: {ROOT / 'configs' / 'quickstart.yaml'}
output:
  dir: {out_dir}
data:
  num_workers: 0
  nan_policy: fill_mean
  synthetic:
    rows: {rows}
    descriptor_columns: 58
descriptors:
  enabled: false
model:
  hidden: 256
  mlp_layers: 2
training:
  threads: 1
  max_epochs: {epochs}
  early_stopping: false
  scheduler: none
  ddp_timeout_s: 120
logging:
  progress: off
monitor:
  interval_ms: 200
""")


def run(trainer, config, name, world, batch, log_dir):
    port = str(free_port())
    procs = []
    for rank in range(world):
        env = dict(ENV)
        if world > 1:
            env.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                       MASTER_PORT=port)
        log = open(log_dir / f"{name}.rank{rank}.log", "w")
        cmd = [trainer, "--config", str(config), "--set", f"output.run_name={name}",
               "--set", f"training.batch_size={batch}"]
        procs.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=env), log))
    for proc, log in procs:
        if proc.wait() != 0:
            sys.exit(f"{name}: a rank failed with {proc.returncode}; see {log.name}")
        log.close()
    return log_dir / f"{name}.rank0.log"


def measure(run_dir, rank0_log):
    with open(run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    sps = statistics.mean(float(r["samples_per_s"]) for r in rows[1:] or rows)
    collective = total = 0.0
    for m in SHARE.finditer(Path(rank0_log).read_text()):
        collective += float(m.group(1))
        total += float(m.group(2))
    return sps, (collective / total if total else 0.0), float(rows[-1]["val_loss"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--trainer", default=str(ROOT / "build" / "tools" / "trainer"))
    args = ap.parse_args()
    setups = [("1 rank, batch 64", 1, 64), ("2 ranks, batch 32 each (global 64)", 2, 32),
              ("2 ranks, batch 64 each (global 128)", 2, 64)]
    results = {label: [] for label, _, _ in setups}
    with tempfile.TemporaryDirectory(prefix="ddp_scaling_") as tmp:
        tmp = Path(tmp)
        config = tmp / "mlp.yaml"
        write_config(config, tmp / "runs", args.rows, args.epochs)
        for repeat in range(args.repeats):
            for i, (label, world, batch) in enumerate(setups):
                name = f"r{repeat}_{i}"
                log = run(args.trainer, config, name, world, batch, tmp)
                results[label].append(measure(tmp / "runs" / name, log))
    base = statistics.median(s for s, _, _ in results[setups[0][0]])
    print(f"MLP workload, {args.rows} synthetic rows (80% train), {args.epochs} epochs, 1 intra-op thread per rank, "
          f"{args.repeats} repeat(s), medians; samples/s over epochs 2..{args.epochs}")
    print(f"{'setup':40s} {'samples/s':>10s} {'efficiency':>10s} {'all-reduce share':>17s} {'final val_loss':>15s}")
    for label, world, _ in setups:
        sps = statistics.median(s for s, _, _ in results[label])
        share = statistics.median(c for _, c, _ in results[label])
        loss = statistics.median(v for _, _, v in results[label])
        efficiency = sps / (world * base)
        print(f"{label:40s} {sps:10.0f} {efficiency:10.2f} {100 * share:16.1f}% {loss:15.5f}")


if __name__ == "__main__":
    main()
