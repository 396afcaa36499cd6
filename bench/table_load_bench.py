"""Load time and load-phase peak RSS (above the process's own baseline) of one table, side by side in one
run: safetrain's table layer on the CSV, the .csv.gz and the Parquet copy (build/bench/table_load_bench),
the same CSV parsed on one thread (OMP_NUM_THREADS=1: one piece at a time, as before the parallel parse),
an older safetrain's reader when --old-bench names a program of the same output built from another checkout,
pandas.read_csv and pyarrow.csv.read_csv. Each load runs in a fresh process, after a 100-row read of the same
format (so the reader's code pages are not counted as the table's memory); the fastest of --repeat runs is
shown, and the ratios against issue 25's targets are printed under each table.

  cmake --build build --target table_load_bench
  $SAFETRAIN_PYTHON bench/table_load_bench.py --sizes 100000x70,1000000x70,100000x2000 [--old-bench PATH]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

PEER = r"""
import sys, time
def kb(key):
    for line in open('/proc/self/status'):
        if line.startswith(key): return int(line.split()[1])
import {module}
{call_warm}
open('/proc/self/clear_refs', 'w').write('5')
before = kb('VmRSS:')
start, cpu = time.perf_counter(), time.process_time()
table = {call}
seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
print(f"seconds={{seconds:.3f}} cpu_seconds={{cpu_seconds:.3f}} peak_above_start_kb={{kb('VmHWM:') - before}}")
"""


def parse(line):
    return {k: float(v) for k, v in (field.split("=") for field in line.split())}


def run(command, env=None):
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    return parse(out.strip().splitlines()[-1])


def write_tables(folder, name, rows, columns, seed=0):
    """The table as CSV, .csv.gz (gzip -6) and Parquet (64k-row row groups), written in 100k-row slices."""
    rng = np.random.default_rng(seed)
    names = [f"d{i}" for i in range(columns - 1)] + ["target_y"]
    schema = pa.schema([(n, pa.float32()) for n in names])
    base = os.path.join(folder, name)
    with pacsv.CSVWriter(base + ".csv", schema) as csv, pq.ParquetWriter(base + ".parquet", schema) as parquet:
        for start in range(0, rows, 100000):
            data = rng.standard_normal((min(100000, rows - start), columns)).astype(np.float32)
            batch = pa.record_batch([data[:, i] for i in range(columns)], schema=schema)
            csv.write_batch(batch)
            parquet.write_batch(batch, row_group_size=65536)
    subprocess.run(["gzip", "-k", "-f", base + ".csv"], check=True)
    return base


def peer(module, call, warm_call):
    return [sys.executable, "-c", PEER.format(module=module, call=call, call_warm=warm_call)]


def measure(a, folder, rows, columns):
    started = time.perf_counter()
    base = write_tables(folder, f"t{rows}x{columns}", rows, columns)
    warm = write_tables(folder, f"warm{columns}", 100, columns)
    print(f"(tables written in {time.perf_counter() - started:.0f} s)", flush=True)
    single = dict(os.environ, OMP_NUM_THREADS="1")
    runs = [("safetrain CSV", [a.bench, "--warm", warm + ".csv", base + ".csv"], None),
            ("safetrain CSV 1 thread", [a.bench, "--warm", warm + ".csv", base + ".csv"], single),
            ("safetrain .csv.gz", [a.bench, "--warm", warm + ".csv.gz", base + ".csv.gz"], None),
            ("safetrain Parquet", [a.bench, "--warm", warm + ".parquet", base + ".parquet"], None)]
    if a.old_bench:
        runs.insert(0, ("old safetrain CSV", [a.old_bench, base + ".csv"], None))
    for name, module, call in [("pandas.read_csv", "pandas", "pandas.read_csv({!r})"),
                               ("pyarrow.csv.read_csv", "pyarrow.csv", "pyarrow.csv.read_csv({!r})")]:
        runs.append((name, peer(module, call.format(base + ".csv"), call.format(warm + ".csv")), None))
    results = {}
    for name, command, env in runs:  # the fastest of --repeat runs (the machine is shared)
        results[name] = min((run(command, env) for _ in range(a.repeat)), key=lambda r: r["seconds"])
        print(f"  {name}: {results[name]['seconds']:.3f} s", flush=True)
    return results


def report(results, rows, columns):
    data_kb = rows * columns * 4 / 1024
    base = results["safetrain CSV"]["seconds"]
    print(f"\n{rows} x {columns} float32 = {data_kb / 1024:.1f} MB of data")
    print(f"{'reader':24s} {'seconds':>8s} {'vs safetrain CSV':>17s} {'CPU s':>7s} {'peak MB':>8s} {'peak / data':>11s}")
    for name, r in results.items():
        print(f"{name:24s} {r['seconds']:8.3f} {r['seconds'] / base:16.2f}x {r.get('cpu_seconds', float('nan')):7.3f} "
              f"{r['peak_above_start_kb'] / 1024:8.1f} {r['peak_above_start_kb'] / data_kb:11.2f}")
    print("(CPU s: the load's process CPU time; on a machine other work shares, the one-thread readers' CPU time is\n"
          " the wall time they would take alone; the parallel CSV's includes its threads' waits at each batch's join)")
    seconds = {name: r["seconds"] for name, r in results.items()}
    before = seconds.get("old safetrain CSV", seconds["safetrain CSV 1 thread"])
    before_name = "old reader" if "old safetrain CSV" in seconds else "one thread"
    print("targets:")
    print(f"  CSV no slower than before ({before_name}): {before / base:.2f}x as fast")
    print(f"  CSV >= 2x pandas.read_csv: {seconds['pandas.read_csv'] / base:.2f}x")
    print(f"  Parquet >= 5x the CSV reader ({before_name}): {before / seconds['safetrain Parquet']:.2f}x")
    for name in ("safetrain CSV", "safetrain .csv.gz", "safetrain Parquet"):
        print(f"  {name} peak <= 1.3x the data: {results[name]['peak_above_start_kb'] / data_kb:.2f}x")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="100000x70", help="ROWSxCOLUMNS[,...]")
    p.add_argument("--bench", default="build/bench/table_load_bench")
    p.add_argument("--old-bench", default="", help="table_load_bench (or equivalent) of an older checkout")
    p.add_argument("--repeat", type=int, default=3, help="runs of each load; the fastest is shown")
    p.add_argument("--workdir", default=None, help="where the tables are written (default: a temporary folder)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(dir=a.workdir) as folder:
        for size in a.sizes.split(","):
            rows, columns = (int(x) for x in size.lower().split("x"))
            print(f"{rows} x {columns}:", flush=True)
            report(measure(a, folder, rows, columns), rows, columns)
            for name in os.listdir(folder):
                os.remove(os.path.join(folder, name))


if __name__ == "__main__":
    main()
