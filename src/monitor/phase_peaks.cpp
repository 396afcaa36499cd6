#include "safetrain/monitor/phase_peaks.hpp"

#include <algorithm>

namespace safetrain::monitor {

void PhasePeaks::credit(Phase phase, double hwm_mb, double mark_mb) {
  if (hwm_mb <= mark_mb + 0.05) return;  // no new process peak inside this span
  auto& peak = peak_mb_[phase];
  peak = std::max(peak, hwm_mb);
}

void PhasePeaks::on_sample(Phase innermost, double rss_mb) {
  auto& peak = peak_mb_[innermost];
  peak = std::max(peak, rss_mb);
}

void PhasePeaks::on_enter(Phase phase, double hwm_mb) {
  if (!open_.empty()) credit(open_.back().first, hwm_mb, open_.back().second);
  open_.emplace_back(phase, hwm_mb);
}

void PhasePeaks::on_exit(Phase phase, double hwm_mb) {
  // Scopes nest (RAII); an exit that does not match the innermost phase closes what is above it too.
  while (!open_.empty()) {
    const auto [open_phase, mark] = open_.back();
    open_.pop_back();
    credit(open_phase, hwm_mb, mark);
    if (open_phase == phase) break;
  }
  if (!open_.empty()) open_.back().second = hwm_mb;  // the outer phase's own time starts again
}

}  // namespace safetrain::monitor
