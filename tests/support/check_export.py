"""Compares python/safetrain_model.py on an export with C++ predict's CSV for the same table.
Usage: check_export.py EXPORT TABLE_CSV PREDICTIONS_CSV [TOLERANCE]; exit 1 naming the worst target."""
import pathlib
import sys

import pandas

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "python"))
import safetrain_model  # noqa: E402

export, table, predicted = sys.argv[1:4]
tolerance = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-6
model = safetrain_model.load(export)
ours = model.predict(pandas.read_csv(table))
theirs = pandas.read_csv(predicted)
if len(ours) != len(theirs):
    sys.exit(f"rows: python {len(ours)}, predict {len(theirs)}")
if list(ours.index) != list(theirs["row_id"]):  # the same rows scored (drop_rows skips the same ones)
    sys.exit(f"scored rows differ: python {list(ours.index)[:8]}..., predict {list(theirs['row_id'])[:8]}...")
worst = 0.0
for name in model.target_names:
    cpp = theirs[name + "_pred"].to_numpy(dtype="float64")
    py = ours[name].to_numpy(dtype="float64")
    magnitude = max(abs(cpp).max(), 1e-12)  # relative to the target's magnitude in this table
    error = float(abs(py - cpp).max() / magnitude)
    print(f"{name}: max |python - predict| / max |predict| = {error:.3g}")
    worst = max(worst, error)
sys.exit(0 if worst <= tolerance else f"worst relative difference {worst:.3g} > {tolerance}")
