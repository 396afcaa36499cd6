#include <set>
#include "safetrain/train/data_stage.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/data/leak_checks.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/data/tensor_source.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"
#include "safetrain/data/synthetic_arm.hpp"
#include "safetrain/config/derived.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {
using config::Config;
namespace {

data::SplitOptions split_options(const Config& config) {
  data::SplitOptions o = config.data.split;
  o.seed = config.seed;
  return o;
}

data::ColumnSelection column_selection(const Config& config, const FeatureSelection& selection) {
  data::ColumnSelection columns;
  columns.targets = config.data.targets.names;
  columns.target_prefix = config.data.targets.prefix;
  columns.features = selection.features;
  return columns;
}

nlohmann::json decisions_json(const data::descriptors::PipelineResult& result) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : result.decisions) {
    out.push_back({{"column", d.column}, {"kept", d.kept}, {"pass", d.pass}, {"reason", d.reason},
                   {"partner", d.partner}, {"represented_by", d.represented_by}});
  }
  return out;
}

// The selection when the pruner does not run: data.features lists the columns, or the descriptor stage is off.
std::optional<FeatureSelection> selection_without_pruner(const Config& config) {
  if (!config.data.features.empty()) {
    return FeatureSelection{config.data.features, "features: as listed in data.features", "data.features"};
  }
  if (!config.descriptors.enabled) {
    return FeatureSelection{{}, "features: every non-target column (descriptors.enabled is false)", "every column"};
  }
  return std::nullopt;
}

}  // namespace

void write_features_json(const fs::path& file, const FeatureSelection& selection, const data::PreparedData& data) {
  // The pruner reports what it dropped; the kept columns complete the verdict for every input column.
  auto decisions = selection.decisions;
  if (selection.selected_by == "descriptor pipeline") {
    std::set<std::string> listed;  // the pruner's own decisions name its kept columns already: one entry each
    for (const auto& d : decisions) listed.insert(d.value("column", std::string()));
    for (const auto& name : data.feature_names) {
      if (listed.count(name)) continue;
      decisions.push_back({{"column", name}, {"kept", true}, {"pass", -1}, {"reason", "kept by every pass"},
                           {"partner", ""}});
    }
  }
  const nlohmann::json out = {{"features", data.feature_names},
                              {"targets", data.target_names},
                              {"selected_by", selection.selected_by},
                              {"pruner_decisions", decisions}};
  write_file_atomically(file, out.dump(2) + "\n");
}

data::Table load_table(const Config& config) {
  if (config.data.source == data::DataSource::csv) {
    return data::read_table(config.data.path, config.data.read, config::csv_roles(config));
  }
  data::SyntheticOptions o = config.data.synthetic;
  o.seed = config.seed;
  return data::make_synthetic_arm(o);
}

FeatureSelection select_features(const Config& config, const data::Table& table, const fs::path& cache_dir,
                                 monitor::MemoryMonitor* monitor) {
  if (auto fixed = selection_without_pruner(config)) return *fixed;
  const auto split = data::split_table(table, split_options(config));
  // Only training rows decide which columns stay: validation and test targets must not leak in.
  return select_features(config, table.columns, table.source, table.values.index_select(0, split.train), cache_dir,
                         monitor);
}

FeatureSelection select_features(const Config& config, const std::vector<std::string>& columns,
                                 const std::string& table_source, const torch::Tensor& train_rows,
                                 const fs::path& cache_dir, monitor::MemoryMonitor* monitor) {
  if (auto fixed = selection_without_pruner(config)) return *fixed;
  const auto options = config::descriptor_options(config, columns, table_source);
  const auto& targets = options.targets;
  data::TensorTableSource source(columns, train_rows, config.descriptors.batch_rows);
  const fs::path cache_file = cache_dir / (data::descriptors::cache_key(source, options) + ".json");
  if (fs::exists(cache_file)) {
    std::ifstream in(cache_file);
    const auto cached = nlohmann::json::parse(in, nullptr, false);
    if (!cached.is_discarded() && cached.contains("kept_columns") && cached.contains("decisions")) {
      auto kept = cached["kept_columns"].get<std::vector<std::string>>();
      return {kept,
              "features: " + std::to_string(kept.size()) + " of " +
                  std::to_string(columns.size() - targets.size()) +
                  " columns kept by the descriptor pipeline (cached: " + cache_file.string() + ")",
              "descriptor pipeline", cached["decisions"]};
    }
  }
  log::info("descriptor pipeline: pruning ", columns.size() - targets.size(), " feature columns over ",
            train_rows.size(0), " training rows");
  const auto result = [&] {
    monitor::PhaseScope phase(monitor, monitor::Phase::descriptors);
    return data::descriptors::run_pipeline(source, options);
  }();
  fs::create_directories(cache_dir);
  const auto decisions = decisions_json(result);
  write_file_atomically(cache_file,
                        nlohmann::json{{"kept_columns", result.kept_columns}, {"decisions", decisions}}.dump() + "\n");
  return {result.kept_columns,
          "features: " + std::to_string(result.kept_columns.size()) + " of " +
              std::to_string(columns.size() - targets.size()) + " columns kept by the descriptor pipeline",
          "descriptor pipeline", decisions};
}

data::PreparedData prepare_data(const Config& config, data::Table table, const FeatureSelection& selection) {
  // Id-like columns are judged on the raw rows in file order, before prepare() consumes and standardises them.
  const auto id_like = data::id_like_columns(table.values, {}, table.columns, table.columns);
  auto data = data::prepare(std::move(table), column_selection(config, selection), split_options(config));
  data::warn_about_leaks(data, id_like, !config.data.features.empty());
  return data;
}

fs::path data_cache_dir(const Config& config) { return fs::path(config.output.dir) / ".cache" / "data"; }

data::MappedTable map_table(const Config& config) {
  return data::map_source_table(config.data.path, config.data.read, config::csv_roles(config), split_options(config),
                                data_cache_dir(config));
}

data::PreparedData prepare_mapped_data(const Config& config, const data::MappedTable& table,
                                       const FeatureSelection& selection) {
  // The mapped cache holds the rows in split order: the training rows, put back in file order, judge the ids.
  const auto id_like = data::id_like_columns(table.split_values(0), table.split_row_ids(0), table.columns, table.columns);
  auto data =
      data::prepare_mapped(table, column_selection(config, selection), split_options(config), data_cache_dir(config));
  data::warn_about_leaks(data, id_like, !config.data.features.empty());
  return data;
}

}  // namespace safetrain::train
