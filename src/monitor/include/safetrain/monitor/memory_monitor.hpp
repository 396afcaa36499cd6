#pragma once
// The monitor thread: samples process, system and device memory every
// interval into a fixed-size ring (its own memory is bounded: capacity x
// sizeof(Sample) plus event strings) and appends every sample to memory.csv.
// It keeps per-phase memory deltas, runs the leak detectors at epoch ends,
// and acts on thresholds: warn -> log + trim; critical -> trim, re-sample,
// and if still critical ask the trainer to stop cleanly.
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "safetrain/common/checked_write.hpp"
#include "safetrain/monitor/device_description.hpp"
#include "safetrain/monitor/leak_detector.hpp"
#include "safetrain/monitor/monitor_options.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/monitor/phase_peaks.hpp"

namespace safetrain::monitor {

struct Sample {
  double t_s = 0, rss_mb = 0, peak_rss_mb = 0, available_mb = 0;
  double rss_anon_mb = -1, rss_file_mb = -1;  // the judged part (anonymous) and the reclaimable part
  double cuda_allocated_mb = -1, cuda_reserved_mb = -1, nvml_used_mb = -1, nvml_total_mb = -1;
  Phase phase = Phase::idle;
  int64_t epoch = 0;
  std::string event;
};

inline constexpr const char* kMemoryCsvHeader =
    "t_s,rss_mb,rss_anon_mb,rss_file_mb,peak_rss_mb,available_mb,cuda_allocated_mb,cuda_reserved_mb,nvml_used_mb,nvml_total_mb,phase,epoch,event";

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
  struct PhaseTotals { int64_t entries = 0; double entry_mb = 0, exit_mb = 0, growth_mb = 0, largest_growth_mb = 0; };
  Sample take_sample(const std::string& event);
  void push(const Sample& sample);  // caller holds mutex_
  void check_thresholds(const Sample& sample);
  void warn(const std::string& message);  // caller holds mutex_
  void note_peak(double peak_mb, Phase phase);  // caller holds mutex_
  nlohmann::json breakdown_locked() const;  // caller holds mutex_
  nlohmann::json phase_peaks_locked() const;  // caller holds mutex_
  void run();

  MonitorOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
  bool running_ = false;
  std::vector<Sample> ring_;
  size_t ring_next_ = 0;
  int64_t samples_taken_ = 0;
  // memory.csv: rows are collected in csv_pending_ and written by flush_csv(). A failed write
  // is logged once and recorded as an output-write failure (the run then cannot exit 0);
  // sampling and the alarms carry on without the file.
  void open_csv();
  void flush_csv();  // caller holds mutex_ (or is the constructor)
  std::unique_ptr<CheckedFile> csv_;
  std::string csv_pending_;
  double start_time_ = 0;
  Phase phase_ = Phase::idle;
  std::vector<Phase> outer_phases_;  // phases entered before the current one (nested scopes)
  int64_t epoch_ = 0;
  std::map<Phase, double> entry_rss_;
  std::map<Phase, PhaseTotals> phases_;
  PhasePeaks phase_peaks_;
  std::map<std::string, double> forecast_mb_;
  std::map<std::string, double> epoch_phase_growth_;
  LeakDetector host_detector_, device_detector_;
  std::vector<double> epoch_end_mb_;
  std::vector<std::string> warnings_;
  bool stop_requested_ = false;
  std::string stop_reason_;
  bool warned_rss_ = false, warned_device_ = false;
  bool device_shares_host_memory_ = false;
  std::string device_memory_source_;
  double peak_device_mb_ = 0;
  int64_t trims_ = 0;
  double baseline_mb_ = -1;            // RSS of the first sample: the runtime before any data
  double peak_mb_ = 0;                 // the process's peak RSS as last seen
  Phase peak_phase_ = Phase::idle;     // the phase in which it was reached
  std::map<std::string, int64_t> known_bytes_;
  std::function<void()> trim_hook_;
};

}  // namespace safetrain::monitor
