#include "safetrain/train/data_stage.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/data/csv_reader.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"
#include "safetrain/data/synthetic_arm.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {
namespace {

data::SplitOptions split_options(const Config& config) {
  data::SplitOptions o;
  o.train_fraction = config.data.train_fraction;
  o.val_fraction = config.data.val_fraction;
  o.test_fraction = config.data.test_fraction;
  o.seed = config.seed;
  o.nan_policy = data::parse_nan_policy(config.data.nan_policy == "error" ? "refuse" : config.data.nan_policy);
  o.standardize_targets = config.data.standardize_targets;
  return o;
}

std::vector<std::string> target_columns(const Config& config, const data::Table& table) {
  if (!config.data.targets.empty()) return config.data.targets;
  std::vector<std::string> names;
  for (const auto& c : table.columns) {
    if (c.rfind(config.data.target_prefix, 0) == 0) names.push_back(c);
  }
  return names;
}

data::descriptors::DescriptorOptions descriptor_options(const Config& config, std::vector<std::string> targets) {
  const auto& d = config.descriptors;
  data::descriptors::DescriptorOptions o;
  o.batch_rows = d.batch_rows;
  o.max_missing_fraction = d.max_missing_fraction;
  o.min_variance = d.min_variance;
  o.spearman = d.spearman;
  o.spearman_threshold = d.spearman_threshold;
  o.leiden_resolution = d.leiden_resolution;
  o.hsic = d.hsic;
  o.hsic_sample_rows = d.hsic_sample_rows;
  o.hsic_threshold = d.hsic_threshold;
  o.rdc = d.rdc;
  o.rdc_k = d.rdc_k;
  o.rdc_s = d.rdc_s;
  o.rdc_threshold = d.rdc_threshold;
  o.targets = std::move(targets);
  o.keep = d.keep;
  o.seed = config.seed;
  o.prefer_gpu = d.prefer_gpu;
  return o;
}

}  // namespace

data::Table load_table(const Config& config) {
  if (config.data.source == "csv") return data::read_csv(config.data.path);
  data::SyntheticOptions o;
  o.rows = config.data.synthetic.rows;
  o.descriptor_columns = config.data.synthetic.descriptor_columns;
  o.sensor_noise = config.data.synthetic.sensor_noise;
  o.seed = config.seed;
  return data::make_synthetic_arm(o);
}

FeatureSelection select_features(const Config& config, const data::Table& table, const fs::path& cache_dir) {
  if (!config.data.features.empty()) return {config.data.features, "features: as listed in data.features"};
  if (!config.descriptors.enabled) return {{}, "features: every non-target column (descriptors.enabled is false)"};

  const auto targets = target_columns(config, table);
  const auto split = data::split_indices(table.values.size(0), split_options(config));
  // Only training rows decide which columns stay: validation and test targets must not leak in.
  data::descriptors::TensorRowSource source(table.columns, table.values.index_select(0, split.train),
                                            config.descriptors.batch_rows);
  const auto options = descriptor_options(config, targets);
  const fs::path cache_file = cache_dir / (data::descriptors::cache_key(source, options) + ".json");
  if (fs::exists(cache_file)) {
    std::ifstream in(cache_file);
    const auto cached = nlohmann::json::parse(in, nullptr, false);
    if (!cached.is_discarded() && cached.contains("kept_columns")) {
      auto kept = cached["kept_columns"].get<std::vector<std::string>>();
      return {kept, "features: " + std::to_string(kept.size()) + " of " +
                        std::to_string(table.columns.size() - targets.size()) +
                        " columns kept by the descriptor pipeline (cached: " + cache_file.string() + ")"};
    }
  }
  log::info("descriptor pipeline: pruning ", table.columns.size() - targets.size(), " feature columns over ",
            split.train.size(0), " training rows");
  const auto result = data::descriptors::run_pipeline(source, options);
  fs::create_directories(cache_dir);
  write_file_atomically(cache_file, nlohmann::json{{"kept_columns", result.kept_columns}}.dump() + "\n");
  return {result.kept_columns, "features: " + std::to_string(result.kept_columns.size()) + " of " +
                                   std::to_string(table.columns.size() - targets.size()) +
                                   " columns kept by the descriptor pipeline"};
}

data::PreparedData prepare_data(const Config& config, const data::Table& table, const FeatureSelection& selection) {
  data::ColumnSelection columns;
  columns.targets = config.data.targets;
  columns.target_prefix = config.data.target_prefix;
  columns.features = selection.features;
  return data::prepare(table, columns, split_options(config));
}

}  // namespace safetrain::train
