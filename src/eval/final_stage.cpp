#include "safetrain/eval/final_stage.hpp"

#include <stdexcept>

#include "safetrain/eval/predictions.hpp"

namespace safetrain::eval {

std::vector<std::filesystem::path> write_final_outputs(const RunLayout& layout,
                                                       const std::vector<std::string>& target_names,
                                                       const std::vector<SplitResult>& splits,
                                                       const nlohmann::json& summary, const RedrawOptions& redraw,
                                                       const TextColumns* ids) {
  std::vector<std::filesystem::path> written;
  nlohmann::json metrics_json = summary.is_object() ? summary : nlohmann::json::object();
  for (const auto& split : splits) {
    if (!split.metrics) throw std::invalid_argument("write_final_outputs: split '" + split.name + "' has no metrics");
    if (split.outputs.size() == 0) continue;
    const auto csv = layout.predictions_csv(split.name);
    write_predictions_csv(split.outputs, target_names, csv, ids);
    written.push_back(csv);
    auto entry = split.metrics->to_json();
    entry["epoch"] = split.epoch;
    entry["kept"] = split.outputs.size();
    entry["seen"] = split.outputs.seen;
    metrics_json[split.name] = std::move(entry);
  }
  write_metrics_json(metrics_json, layout.metrics_json());
  written.push_back(layout.metrics_json());
  const auto plots = redraw_run(layout.root(), redraw);
  written.insert(written.end(), plots.begin(), plots.end());
  return written;
}

}  // namespace safetrain::eval
