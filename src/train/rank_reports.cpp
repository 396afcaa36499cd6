#include "safetrain/train/rank_reports.hpp"

#include <string>

namespace safetrain::train {
namespace {

// A stop outranks growth, which outranks a flat or an unjudged run.
int severity(const std::string& verdict) {
  if (verdict.rfind("stopped", 0) == 0) return 3;
  if (verdict == "growing") return 2;
  if (verdict == "flat") return 1;
  return 0;
}

double number_or(const nlohmann::json& report, const char* key, double fallback) {
  const auto it = report.find(key);
  return it != report.end() && it->is_number() ? it->get<double>() : fallback;
}

}  // namespace

nlohmann::json combine_rank_reports(const std::vector<nlohmann::json>& reports) {
  if (reports.empty()) return nlohmann::json::object();
  nlohmann::json combined = reports.front();
  nlohmann::json ranks = nlohmann::json::array();
  size_t worst = 0;
  for (size_t r = 0; r < reports.size(); ++r) {
    const auto& report = reports[r];
    const std::string verdict = report.value("verdict", "");
    ranks.push_back({{"rank", r},
                     {"peak_rss_mb", report.value("peak_rss_mb", nlohmann::json())},
                     {"final_rss_mb", report.value("final_rss_mb", nlohmann::json())},
                     {"growth_mb_per_epoch", report.value("growth_mb_per_epoch", nlohmann::json())},
                     {"peak_device_allocated_mb", report.value("peak_device_allocated_mb", nlohmann::json())},
                     {"device_growth_mb_per_epoch", report.value("device_growth_mb_per_epoch", nlohmann::json())},
                     {"warnings", report.value("warnings", nlohmann::json::array())},
                     {"verdict", verdict}});
    const std::string worst_verdict = reports[worst].value("verdict", "");
    const bool worse = severity(verdict) > severity(worst_verdict) ||
                       (severity(verdict) == severity(worst_verdict) &&
                        number_or(report, "growth_mb_per_epoch", 0) > number_or(reports[worst], "growth_mb_per_epoch", 0));
    if (worse) worst = r;
  }
  combined["world_size"] = reports.size();
  combined["ranks"] = std::move(ranks);
  combined["worst_rank"] = worst;
  combined["verdict"] = reports[worst].value("verdict", "");
  return combined;
}

}  // namespace safetrain::train
