// MemoryMonitor's end-of-run outputs: memory_report.json and the verdict line.
#include <cmath>
#include <cstdio>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/monitor/memory_monitor.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/common/units.hpp"

namespace safetrain::monitor {
namespace {

double round1(double v) { return std::round(v * 10.0) / 10.0; }
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }
nlohmann::json optional_mb(int64_t bytes) {
  return bytes >= 0 ? nlohmann::json(round1(bytes_to_mb(bytes))) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json MemoryMonitor::breakdown() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return breakdown_locked();
}

// peak = baseline + data + model state + rest; the rest is activations, allocator caches, buffers and the
// libraries' own growth after the first sample.
nlohmann::json MemoryMonitor::breakdown_locked() const {
  const double peak = std::max(peak_mb_, bytes_to_mb(peak_rss_bytes()));
  const double baseline = std::max(0.0, baseline_mb_);
  nlohmann::json out = {{"peak_rss_mb", round1(peak)}, {"runtime_baseline_mb", round1(baseline)}};
  double rest = peak - baseline;
  for (const auto& [part, bytes] : known_bytes_) {
    out[part + "_mb"] = round1(bytes_to_mb(bytes));
    rest -= bytes_to_mb(bytes);
  }
  out["rest_mb"] = round1(rest);
  out["peak_phase"] = phase_name(peak_phase_);
  return out;
}

void MemoryMonitor::set_forecast(std::map<std::string, double> above_runtime_mb) {
  std::lock_guard<std::mutex> lock(mutex_);
  forecast_mb_ = std::move(above_runtime_mb);
}

// Each phase's peak above the runtime baseline, beside the forecast's figure when there is one.
nlohmann::json MemoryMonitor::phase_peaks_locked() const {
  const double baseline = std::max(0.0, baseline_mb_);
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [phase, peak] : phase_peaks_.peaks_mb()) {
    if (phase == Phase::idle) continue;
    nlohmann::json entry = {{"peak_rss_mb", round1(peak)}, {"above_runtime_mb", round1(peak - baseline)}};
    if (const auto f = forecast_mb_.find(phase_name(phase)); f != forecast_mb_.end()) {
      entry["forecast_mb"] = round1(f->second);
      entry["measured_over_forecast"] = f->second > 0 ? nlohmann::json(round3((peak - baseline) / f->second)) : nullptr;
    }
    out[phase_name(phase)] = entry;
  }
  return out;
}

nlohmann::json MemoryMonitor::report() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [phase, t] : phases_) {
    phases[phase_name(phase)] = {{"entries", t.entries},
                                 {"entry_mb_sum", round1(t.entry_mb)},
                                 {"exit_mb_sum", round1(t.exit_mb)},
                                 {"growth_mb_sum", round1(t.growth_mb)},
                                 {"largest_growth_mb", round1(t.largest_growth_mb)}};
  }
  const bool judged = static_cast<int64_t>(epoch_end_mb_.size()) >= options_.warmup_epochs + 3;
  std::string verdict;
  if (stop_requested_) verdict = "stopped: " + stop_reason_;
  else if (!judged) verdict = "too short to judge (fewer than warm-up + 3 epochs)";
  else if (host_detector_.warned() || device_detector_.warned()) verdict = "growing";
  else verdict = "flat";
  const auto device = cuda_memory(0);
  return {{"peak_rss_mb", round1(bytes_to_mb(peak_rss_bytes()))},
          {"final_rss_mb", round1(bytes_to_mb(current_rss_bytes()))},
          {"final_rss_anon_mb", round1(bytes_to_mb(resident_memory().anon))},
          {"final_rss_file_mb", round1(bytes_to_mb(resident_memory().file))},
          {"peak_device_allocated_mb", peak_device_mb_ >= 0 ? nlohmann::json(round1(peak_device_mb_)) : nlohmann::json(nullptr)},
          {"growth_mb_per_epoch", round3(host_detector_.slope())},
          {"device_growth_mb_per_epoch", round3(device_detector_.slope())},
          {"device_max_allocated_mb", optional_mb(device.peak_allocated)},
          {"device_max_reserved_mb", optional_mb(device.peak_reserved)},
          {"device_memory_source", device_memory_source_.empty() ? nlohmann::json(nullptr)
                                                                 : nlohmann::json(device_memory_source_)},
          {"device_shares_host_memory", device_shares_host_memory_},
          {"warmup_epochs", options_.warmup_epochs},
          {"leak_threshold_mb_per_epoch", options_.leak_mb_per_epoch},
          {"epoch_end_rss_mb", epoch_end_mb_},
          {"phases", phases},
          {"phase_peaks", phase_peaks_locked()},
          {"peak_breakdown", breakdown_locked()},
          {"warnings", warnings_},
          // Process-wide cache releases (every release_cached_memory: scheduled, end of stage, alarms), and the
          // ones this monitor made on a memory alarm; the trainer's "cache trims" line is the first.
          {"trims", trim_count()},
          {"alarm_trims", trims_},
          {"rss_kinds",
           {{"peak_rss_mb", "total RSS high-water mark (VmHWM: anonymous + file-backed)"},
            {"final_rss_mb", "total RSS at the report"},
            {"final_rss_anon_mb", "anonymous RSS (heap) at the report"},
            {"final_rss_file_mb", "file-backed RSS (mapped files, libraries) at the report"},
            {"epoch_end_rss_mb", "anonymous RSS at each epoch end (total where the kernel gives no split): what the "
                                 "leak detector and the RSS thresholds judge"},
            {"peak_breakdown", "of the total RSS peak"}}},
          {"samples", samples_taken_},
          {"ring_capacity", options_.ring_capacity},
          {"ring_bytes", options_.ring_capacity * static_cast<int64_t>(sizeof(Sample))},
          {"verdict", verdict}};
}

void MemoryMonitor::write_report(const std::filesystem::path& path) const {
  write_file_atomically(path, report().dump(2) + "\n");
}

std::string MemoryMonitor::verdict_line() const {
  const auto r = report();
  const auto& b = r["peak_breakdown"];
  char text[480];
  std::snprintf(text, sizeof text,
                "memory: %s (%+.2f MB/epoch after warm-up), peak RSS %.0f MB in %s = runtime %.0f + data %.1f + "
                "model state %.1f + rest %.1f MB, %zu warning(s)",
                r["verdict"].get<std::string>().c_str(), r["growth_mb_per_epoch"].get<double>(),
                b["peak_rss_mb"].get<double>(), b["peak_phase"].get<std::string>().c_str(),
                b["runtime_baseline_mb"].get<double>(), b.value("data_mb", 0.0), b.value("model_state_mb", 0.0),
                b["rest_mb"].get<double>(), r["warnings"].size());
  return text;
}

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::idle: return "idle";
    case Phase::load: return "load";
    case Phase::build: return "build";
    case Phase::train: return "train";
    case Phase::validate: return "validate";
    case Phase::test: return "test";
    case Phase::plot: return "plot";
    case Phase::checkpoint: return "checkpoint";
    case Phase::descriptors: return "descriptors";
    case Phase::importance: return "importance";
  }
  return "?";
}

PhaseScope::PhaseScope(MemoryMonitor* monitor, Phase phase) : monitor_(monitor), phase_(phase) {
  if (monitor_) monitor_->enter(phase_);
}

PhaseScope::~PhaseScope() {
  if (monitor_) monitor_->exit(phase_);
}

}  // namespace safetrain::monitor
