#pragma once
// The end-of-run plot stage, shared by the trainer's final stage and tools/plot_run.
#include <filesystem>
#include <vector>

namespace safetrain::eval {

// Redraws RUN_DIR/plots/* from the run's files, each only when present:
//   metrics.csv            -> plots/loss.png (best epoch and loss name from metrics.json: "best_epoch", "loss_units")
//   memory.csv             -> plots/memory.png
//   predictions/val.csv    -> plots/val_scatter_<name>.png + plots/val_scatter_grid.png
//   predictions/test.csv   -> plots/test_scatter_*.png
// Scatter titles use exact metrics and the epoch from RUN_DIR/metrics.json ({"val": {...to_json(), "epoch": E},
// "test": {...}}) when present, else metrics recomputed from the buffered rows.
// Missing files and files with a header only are skipped. A malformed file costs only its own
// figure: the others are still drawn, then the first error (InputError naming file/line/column
// or key) is rethrown. Returns the files written.
struct RedrawOptions {
  bool memory = true;  // the trainer draws memory.png itself, after its monitor has stopped
  bool report = true;  // log "plots: wrote N files" (the trainer logs its own total, with memory and importance)
};
std::vector<std::filesystem::path> redraw_run(const std::filesystem::path& run_dir, const RedrawOptions& options = {});

// Where a split's scatter titles come from: exact metrics of `epoch` saved by the trainer, or (exact = false)
// metrics recomputed from the kept rows.
struct SplitTitleSource {
  bool exact = false;
  int64_t epoch = -1;
};
SplitTitleSource split_title_source(const std::filesystem::path& run_dir, const std::string& split);

}  // namespace safetrain::eval
