#pragma once
// The run's memory, phase by phase, forecast before anything is loaded: host RSS above the runtime and
// device memory, from the table's shape, the model spec and the settings that size buffers. Every phase
// holds the data (unless it is memory-mapped) plus what that phase adds; the constants that no formula
// gives (thread pools' first-touch buffers, the reader's blocks, the plotting library) were measured on
// the CPU workloads of bench/memory_footprint.py --check-estimate, which prints forecast against measured.
#include <cstdint>
#include <string>
#include <vector>

#include "safetrain/models/memory_estimate.hpp"

namespace safetrain::models {

// PLplot with its cairo PNG driver: the font cache and the image surfaces of one figure (measured above the
// test's level). Most of it stays resident after the first figure, so the phases after the plots hold it too.
// With the kept outputs (memory.max_*_outputs) it is the documented margin by which the final stage may stand
// above training.
inline constexpr int64_t kPlottingBytes = int64_t{18} * 1024 * 1024;

struct TableShape {
  int64_t rows = 0;      // data rows (a CSV's line count is an upper bound, which is what a forecast wants)
  int64_t features = 0;  // numeric feature columns read (before any pruning)
  int64_t targets = 0;
  int64_t row_group_bytes = 0;  // its largest Parquet row group of the columns read, as float32 (0: CSV)
};

// What the config decides about buffers; filled from a Config by infer::forecast_settings.
struct ForecastSettings {
  int64_t batch_size = 1;
  OptimizerKind optimizer = OptimizerKind::adam;
  Precision precision = Precision::fp32;
  bool on_cuda = false;          // the model and its batches live on a CUDA device
  bool mapped = false;           // data.storage: mmap: the table's pages are file-backed, not anonymous
  int64_t reader_bytes = int64_t{15} << 20;  // the source's working set while reading (Arrow's CSV blocks)
  int64_t staged_row_group = 0;  // data.storage: mmap converts rows in parts, so a Parquet row group is held whole
  int64_t pruner_scratch = 0;    // the descriptor pruner's working set over the training rows; 0: it does not run
  bool importance = false;       // permutation importance in the final stage
  int64_t importance_rows = 0;   // rows importance scores (its sample of the validation split)
  int64_t loader_batches = 0;    // batches in flight: workers building + prefetched ready ones
  int64_t kept_outputs = 0;      // validation/test outputs kept for plots (the larger of the two caps)
  double train_fraction = 0.8;
};

struct PhaseForecast {
  std::string phase;  // a monitor phase name: load, descriptors, train, validate, checkpoint, test, importance, plot
  int64_t host_bytes = 0;    // RSS above the runtime
  int64_t device_bytes = 0;  // CUDA allocator; 0 on the CPU
  std::string held;          // what dominates, e.g. "data 26.7 MB + model state 1.4 MB + activations 0.3 MB"
};

struct MemoryForecast {
  std::vector<PhaseForecast> phases;  // in run order
  int64_t data_bytes = 0;
  const PhaseForecast& largest_host() const;
  const PhaseForecast& largest_device() const;
  // One line per phase, e.g. "train ~49.5 MB host (data 27.5 MB + ...)", for the trainer's first lines and
  // check_system.
  std::vector<std::string> lines() const;
};

MemoryForecast forecast_memory(const ModelSpec& spec, const TableShape& table, const ForecastSettings& settings);

// The largest batch (x accumulation up to `effective_batch`) whose forecast host (or, on CUDA, device)
// peak stays within `budget_bytes`; 0 when even a batch of 1 does not fit.
int64_t largest_batch_within(const ModelSpec& spec, const TableShape& table, ForecastSettings settings,
                             int64_t budget_bytes);

}  // namespace safetrain::models
