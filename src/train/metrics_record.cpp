#include "safetrain/train/metrics_record.hpp"

#include <algorithm>
#include <stdexcept>

#include "safetrain/common/run_layout.hpp"

namespace safetrain::train {

void MetricsRecord::log(const std::string& key, double value, Show show) {
  if (key.empty() || key.find_first_of(",\"\r\n") != std::string::npos) {
    throw std::invalid_argument("metric name '" + key + "': must be non-empty, without comma, quote or line break");
  }
  if (key == metric::kEpoch) throw std::invalid_argument("metric name 'epoch': the record's own (EpochRecord::epoch)");
  const auto found = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; });
  if (found != entries_.end()) {
    found->value = value;
    found->show = show;
  } else {
    entries_.push_back({key, value, show});
  }
}

void MetricsRecord::log_per_target(const std::string& figure, const std::vector<std::string>& targets,
                                   const std::vector<double>& values) {
  if (values.size() != targets.size()) {
    throw std::invalid_argument(figure + ": " + std::to_string(values.size()) + " values for " +
                                std::to_string(targets.size()) + " targets");
  }
  for (size_t t = 0; t < targets.size(); ++t) log(target_metric_key(figure, targets[t]), values[t]);
}

std::optional<double> MetricsRecord::get(const std::string& key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return e.value;
  }
  return std::nullopt;
}

}  // namespace safetrain::train
