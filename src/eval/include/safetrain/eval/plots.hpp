#pragma once
// Final-stage figures, drawn with PLplot's pngcairo driver. Each figure opens
// its own PLplot stream and ends it (plend1) before returning, so nothing
// stays allocated between figures. PLplot is not thread-safe: call these from
// one thread at a time.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/streaming_metrics.hpp"

namespace safetrain::eval {

inline constexpr int kScatterSizePx = 800;     // one target: 800 x 800
inline constexpr int kGridCellPx = 420;        // grid: cols*420 x rows*420
inline constexpr int kCurveWidthPx = 1000;     // loss and memory curves: 1000 x 600
inline constexpr int kCurveHeightPx = 600;

struct ScatterOptions {
  std::string title_prefix = "val";  // "val" / "test"; also the file name prefix
  int64_t epoch = -1;                // -1: not shown
};

// plots_dir/<prefix>_scatter_<name>.png per target (name sanitised for the file system)
// and plots_dir/<prefix>_scatter_grid.png. Returns the files written (none when outputs is empty).
std::vector<std::filesystem::path> write_scatter_plots(const BufferedOutputs& outputs,
                                                       const std::vector<std::string>& target_names,
                                                       const StreamingMetrics& metrics,
                                                       const std::filesystem::path& plots_dir,
                                                       const ScatterOptions& options);
std::vector<std::filesystem::path> write_scatter_plots(const BufferedOutputs& outputs,
                                                       const std::vector<std::string>& target_names,
                                                       const MetricSummary& metrics,
                                                       const std::filesystem::path& plots_dir,
                                                       const ScatterOptions& options);

struct EpochRow {
  int64_t epoch;
  double train_loss, val_loss;  // NaN when absent (e.g. not validated that epoch)
};
struct LossCurveOptions {
  int64_t best_epoch = -1;        // marked (line and ring) when it is one of the rows' epochs; -1: none
  std::string loss_name = "loss";  // names the y axis, e.g. "MSE, standardised targets"
};
// Train and validation loss per epoch; log y axis when the positive range spans more than 20x.
void write_loss_curve(const std::vector<EpochRow>& rows, const std::filesystem::path& png,
                      const LossCurveOptions& options = {});

// RSS (and device memory columns when present) against time from the monitor's memory.csv,
// phases shaded, rows with a non-empty `event` marked. Throws InputError on a malformed file.
void write_memory_curve(const std::filesystem::path& memory_csv, const std::filesystem::path& png);

// File-name-safe form of a target name: [A-Za-z0-9_-] kept, anything else becomes '_'.
std::string file_safe_name(const std::string& name);

}  // namespace safetrain::eval
