#pragma once
// The end-of-run plot stage, shared by the trainer's final stage and tools/plot_run.
#include <filesystem>
#include <vector>

namespace safetrain::eval {

// Redraws RUN_DIR/plots/* from the run's files, each only when present:
//   metrics.csv            -> plots/loss.png
//   memory.csv             -> plots/memory.png
//   predictions/val.csv    -> plots/val_scatter_<name>.png + plots/val_scatter_grid.png
//   predictions/test.csv   -> plots/test_scatter_*.png
// Scatter titles use exact metrics from predictions/metrics.json ({"val": {...to_json(), "epoch": E},
// "test": {...}}) when present, else metrics recomputed from the buffered rows.
// Missing files and files with a header only are skipped. A malformed file costs only its own
// figure: the others are still drawn, then the first error (InputError naming file/line/column
// or key) is rethrown. Returns the files written.
std::vector<std::filesystem::path> redraw_run(const std::filesystem::path& run_dir);

}  // namespace safetrain::eval
