#include "safetrain/eval/final_stage.hpp"

#include <stdexcept>

#include "safetrain/eval/predictions.hpp"
#include "safetrain/eval/run_plots.hpp"

namespace safetrain::eval {

std::vector<std::filesystem::path> write_final_outputs(const std::filesystem::path& run_dir,
                                                       const std::vector<std::string>& target_names,
                                                       const std::vector<SplitResult>& splits) {
  std::vector<std::filesystem::path> written;
  nlohmann::json metrics_json = nlohmann::json::object();
  const auto predictions_dir = run_dir / "predictions";
  for (const auto& split : splits) {
    if (!split.metrics) throw std::invalid_argument("write_final_outputs: split '" + split.name + "' has no metrics");
    const auto csv = predictions_dir / (split.name + ".csv");
    write_predictions_csv(split.outputs, target_names, csv);
    written.push_back(csv);
    auto entry = split.metrics->to_json();
    entry["epoch"] = split.outputs.epoch;
    entry["kept"] = split.outputs.size();
    entry["seen"] = split.outputs.seen;
    metrics_json[split.name] = std::move(entry);
  }
  write_metrics_json(metrics_json, predictions_dir / "metrics.json");
  written.push_back(predictions_dir / "metrics.json");
  const auto plots = redraw_run(run_dir);
  written.insert(written.end(), plots.begin(), plots.end());
  return written;
}

}  // namespace safetrain::eval
