#pragma once
// The memory monitor, a facade over its parts, each in its own file:
//   Sampler      the thread, the clock and the fixed ring of samples (sampler.hpp)
//   MemoryCsv    memory.csv (memory_csv.hpp)
//   PhaseLedger  phases, their deltas and peaks, the runtime baseline (phase_ledger.hpp)
//   MemoryAlarms thresholds -> trim / warning / stop request, the leak detectors, the verdict (memory_alarms.hpp)
//   MemoryReport memory_report.json and the verdict line (memory_report.hpp)
// One mutex here serialises them: the sampling thread and the trainer's calls meet only in this class.
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/monitor/device_description.hpp"
#include "safetrain/monitor/memory_alarms.hpp"
#include "safetrain/monitor/memory_csv.hpp"
#include "safetrain/monitor/memory_report.hpp"
#include "safetrain/monitor/monitor_options.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/monitor/phase_ledger.hpp"
#include "safetrain/monitor/sample.hpp"
#include "safetrain/monitor/sampler.hpp"

namespace safetrain::monitor {

class MemoryMonitor {
 public:
  explicit MemoryMonitor(MonitorOptions options);
  ~MemoryMonitor();  // stops and joins
  MemoryMonitor(const MemoryMonitor&) = delete;
  MemoryMonitor& operator=(const MemoryMonitor&) = delete;

  void start();
  void stop();
  void enter(Phase phase);
  void exit(Phase phase);
  void end_epoch(int64_t epoch);
  // Epoch end with given figures (tests drive the detector with synthetic numbers).
  void record_epoch_end(int64_t epoch, double host_mb, double device_mb);

  bool stop_requested() const;
  std::string stop_reason() const;
  std::vector<std::string> warnings() const;
  std::vector<Sample> recent_samples() const;
  double growth_mb_per_epoch() const;
  double device_growth_mb_per_epoch() const;
  nlohmann::json report() const;
  void write_report(const std::filesystem::path& path) const;
  std::string verdict_line() const;
  void set_trim_hook(std::function<void()> hook);
  // Bytes the run knows it holds ("data", "model_state"): the report splits the peak into the runtime baseline
  // (the first sample), these parts and the rest, and names the phase in which the peak was reached.
  void set_known_bytes(const std::string& part, int64_t bytes);
  nlohmann::json breakdown() const;
  // The forecast's host figure per phase name (MB above the runtime): the report sets each phase's measured
  // peak beside it, with the ratio.
  void set_forecast(std::map<std::string, double> above_runtime_mb);
  // The device the run uses (the constructor describes CUDA device 0; tests pass a faked one). An
  // integrated GPU shares the host's memory: the monitor says so once, its MemAvailable floor then
  // guards both, and the report's device_memory_source names MemAvailable.
  void describe_device(const DeviceDescription& device);
  int64_t ring_bytes() const;
  // One sampling step (the thread calls it; tests call it directly).
  void sample_now(const std::string& event = "");

 private:
  // Stamps the sample with the phase and epoch, keeps it, writes it; caller holds mutex_.
  void record(Sample sample);
  void check_thresholds(const Sample& sample);
  void warn(const std::string& message);  // caller holds mutex_

  MonitorOptions options_;
  mutable std::mutex mutex_;
  Sampler sampler_;
  MemoryCsv csv_;
  PhaseLedger ledger_;
  MemoryAlarms alarms_;
  MemoryReport report_;
  std::function<void()> trim_hook_;
};

}  // namespace safetrain::monitor
