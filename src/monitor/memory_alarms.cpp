#include "safetrain/monitor/memory_alarms.hpp"

#include <algorithm>
#include <cstdio>

namespace safetrain::monitor {
namespace {

double device_mb(const Sample& s) { return std::max(s.cuda_reserved_mb, s.nvml_used_mb); }

LeakDetectorOptions leak_options(const MonitorOptions& o) {
  return {o.warmup_epochs, o.window_epochs, o.leak_mb_per_epoch};
}

}  // namespace

MemoryAlarms::MemoryAlarms(const MonitorOptions& options)
    : options_(options), host_detector_(leak_options(options), "host"), device_detector_(leak_options(options), "device") {}

bool MemoryAlarms::needs_trim(const Sample& s) const {
  if (stop_requested_) return false;
  const auto& o = options_;
  const bool rss_critical = o.critical_rss_mb > 0 && judged_rss_mb(s) > o.critical_rss_mb;
  const bool device_critical = o.critical_device_mb > 0 && device_mb(s) > o.critical_device_mb;
  const bool available_low = o.min_available_mb > 0 && s.available_mb >= 0 && s.available_mb < o.min_available_mb;
  const bool rss_warn = o.warn_rss_mb > 0 && judged_rss_mb(s) > o.warn_rss_mb;
  const bool device_warn = o.warn_device_mb > 0 && device_mb(s) > o.warn_device_mb;
  return rss_critical || device_critical || available_low || rss_warn || device_warn;
}

std::string MemoryAlarms::critical_after_trim(const Sample& after) const {
  const auto& o = options_;
  char text[200];
  if (o.critical_rss_mb > 0 && judged_rss_mb(after) > o.critical_rss_mb) {
    std::snprintf(text, sizeof text, "RSS %.0f MB (anonymous) above monitor.critical_rss_mb %.0f after a trim",
                  judged_rss_mb(after), o.critical_rss_mb);
  } else if (o.critical_device_mb > 0 && device_mb(after) > o.critical_device_mb) {
    std::snprintf(text, sizeof text, "device memory %.0f MB above monitor.critical_device_mb %.0f after a trim",
                  device_mb(after), o.critical_device_mb);
  } else if (o.min_available_mb > 0 && after.available_mb >= 0 && after.available_mb < o.min_available_mb) {
    std::snprintf(text, sizeof text, "system MemAvailable %.0f MB below monitor.min_available_mb %.0f after a trim%s",
                  after.available_mb, o.min_available_mb,
                  device_shares_host_memory_ ? " (host and integrated GPU memory)" : "");
  } else {
    return "";
  }
  return text;
}

std::vector<std::string> MemoryAlarms::judge_after_trim(const Sample& before, const Sample& after) {
  ++alarm_trims_;
  const std::string critical = critical_after_trim(after);
  if (!critical.empty()) {
    stop_requested_ = true;
    stop_reason_ = critical;
    return {critical + ": asking the trainer to stop (checkpoint saved)"};
  }
  const auto& o = options_;
  std::vector<std::string> messages;
  char text[200];
  if (o.warn_rss_mb > 0 && judged_rss_mb(before) > o.warn_rss_mb && !warned_rss_) {
    warned_rss_ = true;
    std::snprintf(text, sizeof text, "RSS %.0f MB (anonymous) above monitor.warn_rss_mb %.0f: caches trimmed",
                  judged_rss_mb(before), o.warn_rss_mb);
    messages.emplace_back(text);
  }
  if (o.warn_device_mb > 0 && device_mb(before) > o.warn_device_mb && !warned_device_) {
    warned_device_ = true;
    std::snprintf(text, sizeof text, "device memory %.0f MB above monitor.warn_device_mb %.0f: cache released",
                  device_mb(before), o.warn_device_mb);
    messages.emplace_back(text);
  }
  return messages;
}

std::vector<std::string> MemoryAlarms::observe_epoch_end(int64_t epoch, double host_mb, double device_mb,
                                                         const std::map<std::string, double>& phase_growth) {
  std::vector<std::string> messages;
  epoch_end_mb_.push_back(host_mb);
  if (auto warning = host_detector_.observe(epoch, host_mb, phase_growth)) messages.push_back(*warning);
  if (device_mb >= 0) {
    if (auto warning = device_detector_.observe(epoch, device_mb, phase_growth)) messages.push_back(*warning);
  }
  return messages;
}

std::string MemoryAlarms::verdict() const {
  const bool judged = static_cast<int64_t>(epoch_end_mb_.size()) >= options_.warmup_epochs + 3;
  if (stop_requested_) return "stopped: " + stop_reason_;
  if (!judged) return "too short to judge (fewer than warm-up + 3 epochs)";
  if (host_detector_.warned() || device_detector_.warned()) return "growing";
  return "flat";
}

}  // namespace safetrain::monitor
