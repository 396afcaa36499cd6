#pragma once
// The monitor's judgement: the thresholds (warn -> log + trim; critical -> trim, re-sample, and if still
// critical ask the trainer to stop cleanly), the leak detectors on epoch-end memory, the warnings they gave
// and the verdict. It decides and words; MemoryMonitor trims, samples and logs. Not locked: MemoryMonitor
// calls it under its mutex.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "safetrain/monitor/leak_detector.hpp"
#include "safetrain/monitor/monitor_options.hpp"
#include "safetrain/monitor/sample.hpp"

namespace safetrain::monitor {

class MemoryAlarms {
 public:
  explicit MemoryAlarms(const MonitorOptions& options);
  // An integrated GPU shares the host's memory: the MemAvailable message says so.
  void set_device_shares_host_memory(bool shared) { device_shares_host_memory_ = shared; }

  // The sample crossed a warn or critical threshold and the run is not stopping already: trim, then judge.
  bool needs_trim(const Sample& sample) const;
  // Counts the trim and judges `after` (sampled after it): still critical requests the stop (before its
  // message is returned); otherwise the first crossing of each warn threshold in `before` is a warning.
  // The messages to log, in order.
  std::vector<std::string> judge_after_trim(const Sample& before, const Sample& after);
  // Epoch-end memory (host: anonymous RSS; device < 0: none) into the leak detectors; their warnings.
  std::vector<std::string> observe_epoch_end(int64_t epoch, double host_mb, double device_mb,
                                             const std::map<std::string, double>& phase_growth);
  void add_warning(const std::string& message) { warnings_.push_back(message); }

  bool stop_requested() const { return stop_requested_; }
  const std::string& stop_reason() const { return stop_reason_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  int64_t alarm_trims() const { return alarm_trims_; }
  double host_slope() const { return host_detector_.slope(); }
  double device_slope() const { return device_detector_.slope(); }
  const std::vector<double>& epoch_end_mb() const { return epoch_end_mb_; }
  // "stopped: <reason>", "too short to judge (...)", "growing" or "flat".
  std::string verdict() const;

 private:
  std::string critical_after_trim(const Sample& after) const;  // "" when none

  MonitorOptions options_;
  LeakDetector host_detector_, device_detector_;
  std::vector<double> epoch_end_mb_;
  std::vector<std::string> warnings_;
  bool stop_requested_ = false;
  std::string stop_reason_;
  bool warned_rss_ = false, warned_device_ = false;
  bool device_shares_host_memory_ = false;
  int64_t alarm_trims_ = 0;
};

}  // namespace safetrain::monitor
