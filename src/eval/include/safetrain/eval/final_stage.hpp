#pragma once
// The trainer's end-of-training stage (also run on a clean stop): write the
// prediction files and exact metrics, then draw every plot through redraw_run,
// the same code path as tools/plot_run, so both show the same exact metrics.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/common/run_layout.hpp"
#include "safetrain/common/text_columns.hpp"
#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/run_plots.hpp"
#include "safetrain/eval/streaming_metrics.hpp"

namespace safetrain::eval {

struct SplitResult {
  std::string name;                 // "val" or "test": predictions/<name>.csv, plots/<name>_scatter_*.png
  BufferedOutputs outputs;          // OutputBuffer::snapshot() of the epoch that ran this split
  const StreamingMetrics* metrics;  // exact metrics of that same epoch (not owned)
  int64_t epoch = -1;               // 1-based epoch the figures name
};

// Writes predictions/<name>.csv per split and metrics.json ({"<name>": {...metrics.to_json(), "epoch": E,
// "kept": n, "seen": seen}, plus every field of `summary`}), then redraw_run. `ids`: the source's id
// columns, written beside row_id. Returns every file written.
std::vector<std::filesystem::path> write_final_outputs(const RunLayout& layout,
                                                       const std::vector<std::string>& target_names,
                                                       const std::vector<SplitResult>& splits,
                                                       const nlohmann::json& summary = nlohmann::json::object(),
                                                       const RedrawOptions& redraw = {},
                                                       const TextColumns* ids = nullptr);

}  // namespace safetrain::eval
