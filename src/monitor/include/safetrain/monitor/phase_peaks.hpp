#pragma once
// The highest RSS of each phase, for the forecast's per-phase check. Two sources: every sample taken while
// the phase is the innermost one, and the kernel's high-water mark (VmHWM) when it rose inside the phase,
// which is exact for a phase that set a new process peak; a phase that stayed below an earlier peak gets
// its largest sample (a lower bound, monitor.interval_ms apart). VmHWM is never reset: writing
// /proc/self/clear_refs would also hide the peak from wait4's ru_maxrss, which benchmarks read.
#include <map>
#include <utility>
#include <vector>

#include "safetrain/monitor/phase.hpp"

namespace safetrain::monitor {

class PhasePeaks {
 public:
  void on_sample(Phase innermost, double rss_mb);
  // hwm_mb: VmHWM now. A nested phase's rise is its own, not its outer phase's.
  void on_enter(Phase phase, double hwm_mb);
  void on_exit(Phase phase, double hwm_mb);
  const std::map<Phase, double>& peaks_mb() const { return peak_mb_; }

 private:
  void credit(Phase phase, double hwm_mb, double mark_mb);
  std::map<Phase, double> peak_mb_;
  std::vector<std::pair<Phase, double>> open_;  // entered phases and VmHWM when their own time last began
};

}  // namespace safetrain::monitor
