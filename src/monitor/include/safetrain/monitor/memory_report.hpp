#pragma once
// memory_report.json from the monitor's parts: the phase ledger (phases, peaks, baseline), the alarms
// (warnings, leak slopes, verdict), the sampler (sample count, ring size), plus what only the report holds:
// the bytes the run knows it holds, the forecast per phase and the device's memory source. Not locked:
// MemoryMonitor calls it under its mutex.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "safetrain/monitor/memory_alarms.hpp"
#include "safetrain/monitor/monitor_options.hpp"
#include "safetrain/monitor/phase_ledger.hpp"
#include "safetrain/monitor/sampler.hpp"

namespace safetrain::monitor {

class MemoryReport {
 public:
  explicit MemoryReport(const MonitorOptions& options) : options_(options) {}

  void set_known_bytes(const std::string& part, int64_t bytes) { known_bytes_[part] = bytes; }
  void set_forecast(std::map<std::string, double> above_runtime_mb) { forecast_mb_ = std::move(above_runtime_mb); }
  // source: how the device's memory is measured (empty: no CUDA device); shared: an integrated GPU.
  void set_device(std::string source, bool shared_with_host);

  // peak = baseline + known parts + rest, and the phase of the peak.
  nlohmann::json breakdown(const PhaseLedger& ledger) const;
  nlohmann::json build(const PhaseLedger& ledger, const MemoryAlarms& alarms, const Sampler& sampler) const;
  // One line for the end of a run, from a built report.
  static std::string verdict_line(const nlohmann::json& report);

 private:
  nlohmann::json phase_totals(const PhaseLedger& ledger) const;
  nlohmann::json phase_peaks(const PhaseLedger& ledger) const;
  nlohmann::json device_figures() const;

  MonitorOptions options_;
  std::map<std::string, int64_t> known_bytes_;
  std::map<std::string, double> forecast_mb_;
  std::string device_memory_source_;
  bool device_shares_host_memory_ = false;
};

}  // namespace safetrain::monitor
