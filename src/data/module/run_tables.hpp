#pragma once
// Private to the data module: the table a config names, and from it the prepared splits, in memory or
// memory-mapped.
#include <filesystem>

#include "safetrain/config/config.hpp"
#include "safetrain/data/feature_selection.hpp"
#include "safetrain/data/mapped_storage.hpp"
#include "safetrain/data/prepare.hpp"
#include "safetrain/data/table.hpp"

namespace safetrain::data {

// data.split with the run's seed: the trainer's split, which predict re-takes (infer/training_splits.cpp).
SplitOptions split_options(const config::Config& config);

// The CSV/Parquet table with its column roles, or the synthetic arm.
Table load_table(const config::Config& config);

// Consumes the table (its buffer becomes the training split); warns about leaks and id-like columns.
PreparedData prepare_data(const config::Config& config, Table table, const FeatureSelection& selection);

// data.storage: mmap. The table converted once into a mapped cache under OUTPUT_DIR/.cache/data, then the split
// tensors as views of a second mapped cache (data/mapped_storage.hpp).
std::filesystem::path data_cache_dir(const config::Config& config);
MappedTable map_table(const config::Config& config);
PreparedData prepare_mapped_data(const config::Config& config, const MappedTable& table,
                                 const FeatureSelection& selection);

}  // namespace safetrain::data
