#pragma once
// The trainer's data in one call: load the table (CSV or Parquet with its column roles, or the synthetic arm;
// in memory, or memory-mapped with data.storage: mmap), choose the feature columns (feature_selection.hpp:
// the descriptor pipeline's cached selection over the training rows), split and standardise, then the loaders.
// It runs in the monitor's `load` phase, writes features.json and logs what it loaded; the trainer asks it once.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "safetrain/config/config.hpp"
#include "safetrain/data/feature_selection.hpp"
#include "safetrain/data/loader.hpp"
#include "safetrain/data/prepare.hpp"

namespace safetrain::monitor {
class MemoryMonitor;
}

namespace safetrain::data {

// How the ranks of a data-parallel run share the load: rank 0 alone runs the pruner and writes the caches,
// the others wait for its results; each rank's loaders serve its shard. The default is one process.
struct RankShare {
  int rank = 0, world_size = 1;
  // Rank 0 runs `compute` and every rank returns its text (the others wait for it).
  std::function<std::string(const std::string& key, const std::function<std::string()>& compute)> share_from_writer =
      [](const std::string&, const std::function<std::string()>& compute) { return compute(); };
  bool is_writer() const { return rank == 0; }
};

// Where the data is prepared.
struct DataModuleContext {
  RankShare ranks;
  bool pin_memory = false;                    // batches for a CUDA device: pinned host memory
  monitor::MemoryMonitor* monitor = nullptr;  // the load and descriptors phases, the data's size; may be null
  std::filesystem::path features_json;        // RUN_DIR/features.json, written by rank 0; empty: not written
};

struct RunData {
  PreparedData prepared;       // the splits, standardised, and the column names
  FeatureSelection selection;  // how the features were chosen
  std::unique_ptr<Loader> train_loader, val_loader, test_loader;  // test_loader: null when the test split is empty
};

// InputError for a split under 2 rows (and a warning under 30), or for bad data (file:line:col).
RunData prepare_run_data(const config::Config& config, const DataModuleContext& context);

// Bytes of the split tensors (x, y, row ids): the "data" part of the memory report.
int64_t data_bytes(const PreparedData& d);

}  // namespace safetrain::data
