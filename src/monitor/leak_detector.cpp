#include "safetrain/monitor/leak_detector.hpp"

#include <algorithm>
#include <cstdio>

namespace safetrain::monitor {

double theil_sen_slope(const std::vector<double>& xs, const std::vector<double>& ys) {
  std::vector<double> slopes;
  for (size_t i = 0; i < xs.size(); ++i) {
    for (size_t j = i + 1; j < xs.size(); ++j) {
      if (xs[j] != xs[i]) slopes.push_back((ys[j] - ys[i]) / (xs[j] - xs[i]));
    }
  }
  if (slopes.empty()) return 0.0;
  const size_t middle = slopes.size() / 2;
  std::nth_element(slopes.begin(), slopes.begin() + static_cast<std::ptrdiff_t>(middle), slopes.end());
  if (slopes.size() % 2 == 1) return slopes[middle];
  const double upper = slopes[middle];
  const double lower = *std::max_element(slopes.begin(), slopes.begin() + static_cast<std::ptrdiff_t>(middle));
  return 0.5 * (lower + upper);
}

std::string suggestion_for_phase(const std::string& phase) {
  if (phase == "validate") return "lower memory.max_validation_outputs or check that kept tensors are detached";
  if (phase == "test") return "lower memory.max_test_outputs or check that kept tensors are detached";
  if (phase == "train") {
    return "check that nothing keeps losses or outputs across steps (read values with .item()), "
           "and lower data.prefetch_batches";
  }
  if (phase == "checkpoint") return "check that nothing holds serialized checkpoints after they are written";
  if (phase == "plot") return "check that every plot stream is ended after its figure";
  return "compare the per-phase table in memory_report.json";
}

LeakDetector::LeakDetector(LeakDetectorOptions options, std::string what)
    : options_(options), what_(std::move(what)) {}

std::optional<std::string> LeakDetector::observe(int64_t epoch, double memory_mb,
                                                 const std::map<std::string, double>& phase_growth) {
  if (epoch <= options_.warmup_epochs) return std::nullopt;
  window_.push_back({epoch, memory_mb, phase_growth});
  while (static_cast<int64_t>(window_.size()) > options_.window_epochs) window_.pop_front();
  if (window_.size() < 3) return std::nullopt;  // two points make a line from noise
  std::vector<double> xs, ys;
  for (const auto& p : window_) {
    xs.push_back(static_cast<double>(p.epoch));
    ys.push_back(p.memory_mb);
  }
  slope_ = theil_sen_slope(xs, ys);
  if (warned_ || slope_ <= options_.threshold_mb_per_epoch) return std::nullopt;
  warned_ = true;
  std::map<std::string, double> mean_growth;
  for (const auto& p : window_) {
    for (const auto& [phase, growth] : p.phase_growth) mean_growth[phase] += growth / static_cast<double>(window_.size());
  }
  const auto worst = std::max_element(mean_growth.begin(), mean_growth.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
  char text[256];
  std::snprintf(text, sizeof text, "%s memory grows %.2f MB/epoch over epochs %lld-%lld", what_.c_str(), slope_,
                static_cast<long long>(window_.front().epoch), static_cast<long long>(window_.back().epoch));
  std::string message = text;
  if (worst != mean_growth.end() && worst->second > 0) {
    std::snprintf(text, sizeof text, "; %s grew %.1f MB/epoch: ", worst->first.c_str(), worst->second);
    message += text + suggestion_for_phase(worst->first);
  }
  return message;
}

}  // namespace safetrain::monitor
