// memory_report.json and the verdict line.
#include "safetrain/monitor/memory_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "safetrain/common/units.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/monitor/trim.hpp"

namespace safetrain::monitor {
namespace {

double round1(double v) { return std::round(v * 10.0) / 10.0; }
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }
nlohmann::json optional_mb(int64_t bytes) {
  return bytes >= 0 ? nlohmann::json(round1(bytes_to_mb(bytes))) : nlohmann::json(nullptr);
}

// Which RSS each field of the report is.
nlohmann::json rss_kinds() {
  return {{"peak_rss_mb", "total RSS high-water mark (VmHWM: anonymous + file-backed)"},
          {"final_rss_mb", "total RSS at the report"},
          {"final_rss_anon_mb", "anonymous RSS (heap) at the report"},
          {"final_rss_file_mb", "file-backed RSS (mapped files, libraries) at the report"},
          {"epoch_end_rss_mb", "anonymous RSS at each epoch end (total where the kernel gives no split): what the "
                               "leak detector and the RSS thresholds judge"},
          {"peak_breakdown", "of the total RSS peak"}};
}

}  // namespace

void MemoryReport::set_device(std::string source, bool shared_with_host) {
  device_memory_source_ = std::move(source);
  device_shares_host_memory_ = shared_with_host;
}

// peak = baseline + data + model state + rest; the rest is activations, allocator caches, buffers and the
// libraries' own growth after the first sample.
nlohmann::json MemoryReport::breakdown(const PhaseLedger& ledger) const {
  const double peak = std::max(ledger.peak_mb(), bytes_to_mb(peak_rss_bytes()));
  const double baseline = std::max(0.0, ledger.baseline_mb());
  nlohmann::json out = {{"peak_rss_mb", round1(peak)}, {"runtime_baseline_mb", round1(baseline)}};
  double rest = peak - baseline;
  for (const auto& [part, bytes] : known_bytes_) {
    out[part + "_mb"] = round1(bytes_to_mb(bytes));
    rest -= bytes_to_mb(bytes);
  }
  out["rest_mb"] = round1(rest);
  out["peak_phase"] = phase_name(ledger.peak_phase());
  return out;
}

nlohmann::json MemoryReport::phase_totals(const PhaseLedger& ledger) const {
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [phase, t] : ledger.totals()) {
    phases[phase_name(phase)] = {{"entries", t.entries},
                                 {"entry_mb_sum", round1(t.entry_mb)},
                                 {"exit_mb_sum", round1(t.exit_mb)},
                                 {"growth_mb_sum", round1(t.growth_mb)},
                                 {"largest_growth_mb", round1(t.largest_growth_mb)}};
  }
  return phases;
}

// Each phase's peak above the runtime baseline, beside the forecast's figure when there is one.
nlohmann::json MemoryReport::phase_peaks(const PhaseLedger& ledger) const {
  const double baseline = std::max(0.0, ledger.baseline_mb());
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [phase, peak] : ledger.peaks_mb()) {
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

nlohmann::json MemoryReport::device_figures() const {
  const auto device = cuda_memory(0);
  return {{"device_max_allocated_mb", optional_mb(device.peak_allocated)},
          {"device_max_reserved_mb", optional_mb(device.peak_reserved)},
          {"device_memory_source",
           device_memory_source_.empty() ? nlohmann::json(nullptr) : nlohmann::json(device_memory_source_)},
          {"device_shares_host_memory", device_shares_host_memory_}};
}

nlohmann::json MemoryReport::build(const PhaseLedger& ledger, const MemoryAlarms& alarms,
                                   const Sampler& sampler) const {
  const double peak_device = ledger.peak_device_mb();
  nlohmann::json report = {
      {"peak_rss_mb", round1(bytes_to_mb(peak_rss_bytes()))},
      {"final_rss_mb", round1(bytes_to_mb(current_rss_bytes()))},
      {"final_rss_anon_mb", round1(bytes_to_mb(resident_memory().anon))},
      {"final_rss_file_mb", round1(bytes_to_mb(resident_memory().file))},
      {"peak_device_allocated_mb", peak_device >= 0 ? nlohmann::json(round1(peak_device)) : nlohmann::json(nullptr)},
      {"growth_mb_per_epoch", round3(alarms.host_slope())},
      {"device_growth_mb_per_epoch", round3(alarms.device_slope())},
      {"warmup_epochs", options_.warmup_epochs},
      {"leak_threshold_mb_per_epoch", options_.leak_mb_per_epoch},
      {"epoch_end_rss_mb", alarms.epoch_end_mb()},
      {"phases", phase_totals(ledger)},
      {"phase_peaks", phase_peaks(ledger)},
      {"peak_breakdown", breakdown(ledger)},
      {"warnings", alarms.warnings()},
      // Process-wide cache releases (every release_cached_memory: scheduled, end of stage, alarms), and the
      // ones this monitor made on a memory alarm; the trainer's "cache trims" line is the first.
      {"trims", trim_count()},
      {"alarm_trims", alarms.alarm_trims()},
      {"rss_kinds", rss_kinds()},
      {"samples", sampler.taken()},
      {"ring_capacity", sampler.capacity()},
      {"ring_bytes", sampler.ring_bytes()},
      {"verdict", alarms.verdict()}};
  report.update(device_figures());
  return report;
}

std::string MemoryReport::verdict_line(const nlohmann::json& r) {
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

}  // namespace safetrain::monitor
