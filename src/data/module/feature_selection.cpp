#include "safetrain/data/feature_selection.hpp"

#include <fstream>
#include <optional>
#include <set>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/config/derived.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"
#include "safetrain/data/tensor_source.hpp"
#include "safetrain/monitor/phase.hpp"
#include "run_tables.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

nlohmann::json decisions_json(const descriptors::PipelineResult& result) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& d : result.decisions) {
    out.push_back({{"column", d.column}, {"kept", d.kept}, {"pass", d.pass}, {"reason", d.reason},
                   {"partner", d.partner}, {"represented_by", d.represented_by}});
  }
  return out;
}

// The selection when the pruner does not run: data.features lists the columns, or the descriptor stage is off.
std::optional<FeatureSelection> selection_without_pruner(const config::Config& config) {
  if (!config.data.features.empty()) {
    return FeatureSelection{config.data.features, "features: as listed in data.features", "data.features"};
  }
  if (!config.descriptors.enabled) {
    return FeatureSelection{{}, "features: every non-target column (descriptors.enabled is false)", "every column"};
  }
  return std::nullopt;
}

std::string kept_summary(size_t kept, size_t candidates, const std::string& note) {
  return "features: " + std::to_string(kept) + " of " + std::to_string(candidates) +
         " columns kept by the descriptor pipeline" + note;
}

// A selection cached under the same key, or nothing when there is none (or it is unreadable).
std::optional<FeatureSelection> cached_selection(const fs::path& cache_file, size_t candidates) {
  if (!fs::exists(cache_file)) return std::nullopt;
  std::ifstream in(cache_file);
  const auto cached = nlohmann::json::parse(in, nullptr, false);
  if (cached.is_discarded() || !cached.contains("kept_columns") || !cached.contains("decisions")) return std::nullopt;
  auto kept = cached["kept_columns"].get<std::vector<std::string>>();
  const auto summary = kept_summary(kept.size(), candidates, " (cached: " + cache_file.string() + ")");
  return FeatureSelection{std::move(kept), summary, "descriptor pipeline", cached["decisions"]};
}

}  // namespace

fs::path descriptor_cache_dir(const config::Config& config) {
  return fs::path(config.output.dir) / ".cache" / "descriptors";
}

FeatureSelection select_features(const config::Config& config, const Table& table, const fs::path& cache_dir,
                                 monitor::MemoryMonitor* monitor) {
  if (auto fixed = selection_without_pruner(config)) return *fixed;
  const auto split = split_table(table, split_options(config));
  // Only training rows decide which columns stay: validation and test targets must not leak in.
  return select_features(config, table.columns, table.source, table.values.index_select(0, split.train), cache_dir,
                         monitor);
}

FeatureSelection select_features(const config::Config& config, const std::vector<std::string>& columns,
                                 const std::string& table_source, const torch::Tensor& train_rows,
                                 const fs::path& cache_dir, monitor::MemoryMonitor* monitor) {
  if (auto fixed = selection_without_pruner(config)) return *fixed;
  const auto options = config::descriptor_options(config, columns, table_source);
  const size_t candidates = columns.size() - options.targets.size();
  TensorTableSource source(columns, train_rows, config.descriptors.batch_rows);
  const fs::path cache_file = cache_dir / (descriptors::cache_key(source, options) + ".json");
  if (auto cached = cached_selection(cache_file, candidates)) return *cached;
  log::info("descriptor pipeline: pruning ", candidates, " feature columns over ", train_rows.size(0),
            " training rows");
  const auto result = [&] {
    monitor::PhaseScope phase(monitor, monitor::Phase::descriptors);
    return descriptors::run_pipeline(source, options);
  }();
  fs::create_directories(cache_dir);
  const auto decisions = decisions_json(result);
  write_file_atomically(cache_file,
                        nlohmann::json{{"kept_columns", result.kept_columns}, {"decisions", decisions}}.dump() + "\n");
  return {result.kept_columns, kept_summary(result.kept_columns.size(), candidates, ""), "descriptor pipeline",
          decisions};
}

void write_features_json(const fs::path& file, const FeatureSelection& selection, const PreparedData& data) {
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

std::string to_text(const FeatureSelection& selection) {
  return nlohmann::json{{"features", selection.features},
                        {"summary", selection.summary},
                        {"selected_by", selection.selected_by},
                        {"decisions", selection.decisions}}
      .dump();
}

FeatureSelection selection_from_text(const std::string& text) {
  const auto json = nlohmann::json::parse(text);
  return {json.at("features").get<std::vector<std::string>>(), json.at("summary").get<std::string>(),
          json.at("selected_by").get<std::string>(), json.at("decisions")};
}

}  // namespace safetrain::data
