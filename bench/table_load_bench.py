"""Load time and load-phase peak RSS (above the process's own baseline) of one table, side by side in one
run: safetrain's table layer on the CSV, the .csv.gz and the Parquet copy (build/bench/table_load_bench),
an older safetrain's reader when --old-bench names a program of the same output built from another checkout
(before the Arrow layer the CSV reader was hand-written), pandas.read_csv and pyarrow.csv.read_csv. Each load runs in a fresh process.

  cmake --build build --target table_load_bench
  $SAFETRAIN_PYTHON bench/table_load_bench.py --rows 100000 --columns 70 [--old-bench PATH]
"""
import argparse
import os
import subprocess
import sys
import tempfile

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
open('/proc/self/clear_refs', 'w').write('5')
before = kb('VmRSS:')
start = time.perf_counter()
table = {call}
seconds = time.perf_counter() - start
print(f"seconds={{seconds:.3f}} peak_above_start_kb={{kb('VmHWM:') - before}}")
"""


def parse(line):
    return {k: float(v) for k, v in (field.split("=") for field in line.split())}


def run(command):
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    return parse(out)


def write_tables(folder, rows, columns, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((rows, columns)).astype(np.float32)
    names = [f"d{i}" for i in range(columns - 1)] + ["target_y"]
    table = pa.table({n: data[:, i] for i, n in enumerate(names)})
    csv = os.path.join(folder, "table.csv")
    pacsv.write_csv(table, csv)
    subprocess.run(["gzip", "-k", "-f", csv], check=True)
    pq.write_table(table, os.path.join(folder, "table.parquet"), row_group_size=65536)
    return csv


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=100000)
    p.add_argument("--columns", type=int, default=70)
    p.add_argument("--bench", default="build/bench/table_load_bench")
    p.add_argument("--old-bench", default="", help="table_load_bench (or equivalent) of an older checkout")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv = write_tables(folder, a.rows, a.columns)
        runs = [("safetrain CSV", [a.bench, csv]), ("safetrain .csv.gz", [a.bench, csv + ".gz"]),
                ("safetrain Parquet", [a.bench, os.path.join(folder, "table.parquet")])]
        if a.old_bench:
            runs.insert(0, ("old safetrain CSV", [a.old_bench, csv]))
        for name, module, call in [("pandas.read_csv", "pandas", f"pandas.read_csv({csv!r})"),
                                   ("pyarrow.csv.read_csv", "pyarrow.csv", f"pyarrow.csv.read_csv({csv!r})")]:
            runs.append((name, [sys.executable, "-c", PEER.format(module=module, call=call)]))
        results = {name: run(command) for name, command in runs}
        data_kb = a.rows * a.columns * 4 / 1024
        base = results["safetrain CSV"]["seconds"]
        print(f"{a.rows} x {a.columns} float32 = {data_kb / 1024:.1f} MB of data")
        print(f"{'reader':24s} {'seconds':>8s} {'vs safetrain CSV':>17s} {'peak MB':>8s} {'peak / data':>11s}")
        for name, r in results.items():
            print(f"{name:24s} {r['seconds']:8.3f} {r['seconds'] / base:16.2f}x "
                  f"{r['peak_above_start_kb'] / 1024:8.1f} {r['peak_above_start_kb'] / data_kb:11.2f}")


if __name__ == "__main__":
    main()
