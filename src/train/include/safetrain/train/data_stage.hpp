#pragma once
// The trainer's data stage: load the table (synthetic or CSV), prune feature
// columns with the descriptor pipeline (result cached by input hash), split,
// standardise.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/data/mapped_storage.hpp"
#include "safetrain/data/prepare.hpp"
#include "safetrain/data/table.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/monitor/phase.hpp"

namespace safetrain::train {

data::Table load_table(const config::Config& config);

struct FeatureSelection {
  std::vector<std::string> features;  // empty = every non-target column
  std::string summary;                // one line for the log
  std::string selected_by;            // "data.features", "every column", "descriptor pipeline"
  nlohmann::json decisions = nlohmann::json::array();  // the pruner's verdict per input column, when it ran
};

// RUN_DIR/features.json: the features used (in order), the targets, how they were chosen and, when the
// pruner ran, its decision and reason for every input column.
void write_features_json(const std::filesystem::path& file, const FeatureSelection& selection,
                         const data::PreparedData& data);

// Runs (or reuses from `cache_dir`) the descriptor pipeline over the training rows only,
// so validation and test rows never influence which columns are kept. The pruner runs in the monitor's
// `descriptors` phase (monitor may be null).
FeatureSelection select_features(const config::Config& config, const data::Table& table,
                                 const std::filesystem::path& cache_dir, monitor::MemoryMonitor* monitor = nullptr);

// The same over training rows already split off (data.storage: mmap passes a view of its mapped cache).
FeatureSelection select_features(const config::Config& config, const std::vector<std::string>& columns,
                                 const std::string& table_source, const torch::Tensor& train_rows,
                                 const std::filesystem::path& cache_dir, monitor::MemoryMonitor* monitor = nullptr);

// Consumes the table (its buffer becomes the training split).
data::PreparedData prepare_data(const config::Config& config, data::Table table, const FeatureSelection& selection);

// data.storage: mmap. The CSV converted once into a mapped cache under OUTPUT_DIR/.cache/data, then the split
// tensors as views of a second mapped cache (data/mapped_storage.hpp).
std::filesystem::path data_cache_dir(const config::Config& config);
data::MappedTable map_table(const config::Config& config);
data::PreparedData prepare_mapped_data(const config::Config& config, const data::MappedTable& table,
                                       const FeatureSelection& selection);

}  // namespace safetrain::train
