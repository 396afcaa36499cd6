"""Loads RUN_DIR/tensorboard with TensorBoard's own reader (EventAccumulator) and checks that it agrees with
RUN_DIR/metrics.csv: every tag is a column (val_mae/<t> is val_mae_<t>), every point is that column's cell in
the row of its epoch (to float32 precision, as TensorBoard stores scalars), and every non-empty cell is a point.
Usage: check_tensorboard.py RUN_DIR [REQUIRED_TAG ...]. Prints one line per tag; exit 1 on any disagreement."""
import csv
import math
import sys

from tensorboard.backend.event_processing import event_accumulator


def main():
    run_dir, required = sys.argv[1], sys.argv[2:]
    accumulator = event_accumulator.EventAccumulator(run_dir + "/tensorboard",
                                                     size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    with open(run_dir + "/metrics.csv", newline="") as f:
        rows = {int(row["epoch"]): row for row in csv.DictReader(f)}
    tags = accumulator.Tags()["scalars"]
    problems = []
    seen = set()
    for tag in tags:
        column = tag.replace("/", "_", 1)
        points = accumulator.Scalars(tag)
        for point in points:
            seen.add((point.step, column))
            cell = rows.get(point.step, {}).get(column, "")
            if cell == "":
                problems.append(f"{tag} step {point.step}: {point.value} in TensorBoard, no metrics.csv cell")
            elif not math.isclose(float(cell), point.value, rel_tol=1e-6, abs_tol=1e-30):
                problems.append(f"{tag} step {point.step}: TensorBoard {point.value}, metrics.csv {cell}")
        print(f"{tag}: {len(points)} points")
    for epoch, row in rows.items():
        for column, cell in row.items():
            if column != "epoch" and cell != "" and (epoch, column) not in seen:
                problems.append(f"metrics.csv epoch {epoch} {column} = {cell}: not in TensorBoard")
    problems += [f"tag {tag} missing" for tag in required if tag not in tags]
    print(f"{len(tags)} tags, {sum(len(accumulator.Scalars(t)) for t in tags)} points, {len(rows)} epochs")
    for problem in problems:
        print("MISMATCH " + problem)
    return 1 if problems or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
