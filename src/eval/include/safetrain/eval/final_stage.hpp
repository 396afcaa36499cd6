#pragma once
// The trainer's end-of-training stage (also run on a clean stop): write the
// prediction files and exact metrics, then draw every plot through redraw_run,
// the same code path as tools/plot_run.
#include <filesystem>
#include <string>
#include <vector>

#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/streaming_metrics.hpp"

namespace safetrain::eval {

struct SplitResult {
  std::string name;                 // "val" or "test": predictions/<name>.csv, plots/<name>_scatter_*.png
  BufferedOutputs outputs;          // OutputBuffer::snapshot() of the last epoch that ran this split
  const StreamingMetrics* metrics;  // exact metrics of that same epoch (not owned)
};

// Writes RUN_DIR/predictions/<name>.csv per split, RUN_DIR/predictions/metrics.json
// ({"<name>": {...metrics.to_json(), "epoch": E, "kept": n, "seen": seen}}), then redraw_run(run_dir).
// Returns every file written.
std::vector<std::filesystem::path> write_final_outputs(const std::filesystem::path& run_dir,
                                                       const std::vector<std::string>& target_names,
                                                       const std::vector<SplitResult>& splits);

}  // namespace safetrain::eval
