#pragma once
// Where the run is and what each part of it did to memory: the current phase (scopes nest), the epoch, each
// phase's RSS on entry and exit, its peak (PhasePeaks), the growth per phase within the current epoch (for
// the leak detector's advice), the runtime baseline (the first sample) and the process peak with the phase it
// was reached in. Not locked: MemoryMonitor calls it under its mutex.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "safetrain/monitor/phase.hpp"
#include "safetrain/monitor/phase_peaks.hpp"
#include "safetrain/monitor/sample.hpp"

namespace safetrain::monitor {

struct PhaseTotals {
  int64_t entries = 0;
  double entry_mb = 0, exit_mb = 0, growth_mb = 0, largest_growth_mb = 0;
};

class PhaseLedger {
 public:
  // Sets the sample's phase and epoch to the ledger's.
  void stamp(Sample& sample) const;
  // A sample taken (stamped): baseline, peaks.
  void on_sample(const Sample& sample);
  // rss_mb: RSS now; hwm_mb: VmHWM now.
  void enter(Phase phase, double rss_mb, double hwm_mb);
  void exit(Phase phase, double rss_mb, double hwm_mb);
  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  // Each phase's net growth (MB) since the last call, by phase name.
  std::map<std::string, double> take_epoch_growth();

  const std::map<Phase, PhaseTotals>& totals() const { return totals_; }
  const std::map<Phase, double>& peaks_mb() const { return phase_peaks_.peaks_mb(); }
  double baseline_mb() const { return baseline_mb_; }  // -1 before the first sample
  double peak_mb() const { return peak_mb_; }
  Phase peak_phase() const { return peak_phase_; }
  double peak_device_mb() const { return peak_device_mb_; }

 private:
  void note_peak(double peak_mb, Phase phase);

  Phase phase_ = Phase::idle;
  std::vector<Phase> outer_phases_;  // phases entered before the current one (nested scopes)
  int64_t epoch_ = 0;
  std::map<Phase, double> entry_rss_;
  std::map<Phase, PhaseTotals> totals_;
  PhasePeaks phase_peaks_;
  std::map<std::string, double> epoch_growth_;
  double baseline_mb_ = -1;         // RSS of the first sample: the runtime before any data
  double peak_mb_ = 0;              // the process's peak RSS as last seen
  Phase peak_phase_ = Phase::idle;  // the phase in which it was reached
  double peak_device_mb_ = 0;
};

}  // namespace safetrain::monitor
