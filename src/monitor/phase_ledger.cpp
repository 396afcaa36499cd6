#include "safetrain/monitor/phase_ledger.hpp"

#include <algorithm>
#include <utility>

namespace safetrain::monitor {

void PhaseLedger::stamp(Sample& sample) const {
  sample.phase = phase_;
  sample.epoch = epoch_;
}

void PhaseLedger::on_sample(const Sample& sample) {
  if (baseline_mb_ < 0) baseline_mb_ = sample.rss_mb;
  note_peak(sample.peak_rss_mb, sample.phase);
  phase_peaks_.on_sample(sample.phase, sample.rss_mb);
  peak_device_mb_ = std::max(peak_device_mb_, sample.cuda_allocated_mb);
}

void PhaseLedger::enter(Phase phase, double rss_mb, double hwm_mb) {
  phase_peaks_.on_enter(phase, hwm_mb);
  outer_phases_.push_back(phase_);
  phase_ = phase;
  entry_rss_[phase] = rss_mb;
}

void PhaseLedger::exit(Phase phase, double rss_mb, double hwm_mb) {
  note_peak(hwm_mb, phase);  // before the phase ends: a peak inside it is its own
  phase_peaks_.on_exit(phase, hwm_mb);
  auto& totals = totals_[phase];
  const double entry = entry_rss_.count(phase) ? entry_rss_[phase] : rss_mb;
  const double growth = rss_mb - entry;
  ++totals.entries;
  totals.entry_mb += entry;
  totals.exit_mb += rss_mb;
  totals.growth_mb += growth;
  totals.largest_growth_mb = totals.entries == 1 ? growth : std::max(totals.largest_growth_mb, growth);
  epoch_growth_[phase_name(phase)] += growth;
  phase_ = outer_phases_.empty() ? Phase::idle : outer_phases_.back();
  if (!outer_phases_.empty()) outer_phases_.pop_back();
}

std::map<std::string, double> PhaseLedger::take_epoch_growth() {
  std::map<std::string, double> growth;
  growth.swap(epoch_growth_);
  return growth;
}

void PhaseLedger::note_peak(double peak_mb, Phase phase) {
  if (peak_mb <= peak_mb_ + 0.05) return;  // the same peak re-read
  peak_mb_ = peak_mb;
  peak_phase_ = phase;
}

}  // namespace safetrain::monitor
