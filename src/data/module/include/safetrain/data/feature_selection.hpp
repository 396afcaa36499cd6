#pragma once
// Which feature columns a run trains on: data.features as listed, every non-target column, or the descriptor
// pipeline's selection over the training rows only, cached by input hash under OUTPUT_DIR/.cache/descriptors.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/config/config.hpp"
#include "safetrain/data/prepare.hpp"
#include "safetrain/data/table.hpp"

namespace safetrain::monitor {
class MemoryMonitor;
}

namespace safetrain::data {

struct FeatureSelection {
  std::vector<std::string> features;  // empty = every non-target column
  std::string summary;                // one line for the log
  std::string selected_by;            // "data.features", "every column", "descriptor pipeline"
  nlohmann::json decisions = nlohmann::json::array();  // the pruner's verdict per input column, when it ran
};

// The pruner's cache: OUTPUT_DIR/.cache/descriptors.
std::filesystem::path descriptor_cache_dir(const config::Config& config);

// Runs (or reuses from `cache_dir`) the descriptor pipeline over the training rows only,
// so validation and test rows never influence which columns are kept. The pruner runs in the monitor's
// `descriptors` phase (monitor may be null).
FeatureSelection select_features(const config::Config& config, const Table& table,
                                 const std::filesystem::path& cache_dir, monitor::MemoryMonitor* monitor = nullptr);

// The same over training rows already split off (data.storage: mmap passes a view of its mapped cache).
FeatureSelection select_features(const config::Config& config, const std::vector<std::string>& columns,
                                 const std::string& table_source, const torch::Tensor& train_rows,
                                 const std::filesystem::path& cache_dir, monitor::MemoryMonitor* monitor = nullptr);

// RUN_DIR/features.json: the features used (in order), the targets, how they were chosen and, when the
// pruner ran, its decision and reason for every input column.
void write_features_json(const std::filesystem::path& file, const FeatureSelection& selection,
                         const PreparedData& data);

// A selection as one JSON text and back (rank 0 hands it to the other ranks).
std::string to_text(const FeatureSelection& selection);
FeatureSelection selection_from_text(const std::string& text);

}  // namespace safetrain::data
