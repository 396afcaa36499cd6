#pragma once
// Progress of an epoch: one updating line on a terminal, plain log lines every
// N steps otherwise (CI, files). A first ETA of the run is logged after the first
// few batches of the first epoch (kEarlyEtaBatches); the exact one once an epoch has finished.
#include <chrono>
#include <cstdint>
#include <string>

#include "safetrain/train/training_options.hpp"

namespace safetrain::train {

enum class ProgressStyle { bar, lines, off };
inline constexpr int64_t kEarlyEtaBatches = 5;
ProgressStyle progress_style_from(ProgressSetting setting);  // auto looks at isatty(stdout)

class Progress {
 public:
  Progress(ProgressStyle style, int64_t max_epochs, int64_t log_every_n_steps);
  void begin_epoch(int64_t epoch, int64_t steps);
  void step(int64_t step, double loss, int64_t samples_done);
  // Ends the updating line; records the epoch time for the ETA.
  void end_epoch(double seconds_this_epoch);
  std::string eta_text() const;  // "" before the first epoch ends
  // The one-line estimate logged after the first batches of the first epoch ("" until then): training time only,
  // an upper bound when early stopping ends the run sooner.
  const std::string& early_eta() const { return early_eta_; }

 private:
  ProgressStyle style_;
  int64_t max_epochs_;
  int64_t every_;
  int64_t epoch_ = 0, steps_ = 0, epochs_done_ = 0;
  double seconds_total_ = 0;
  std::chrono::steady_clock::time_point epoch_start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool line_open_ = false;
  std::string early_eta_;
  void log_early_eta(int64_t step, double elapsed);
};

std::string format_duration(double seconds);

}  // namespace safetrain::train
