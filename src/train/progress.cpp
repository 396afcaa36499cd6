#include "safetrain/train/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "safetrain/common/log.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/common/units.hpp"

namespace safetrain::train {

ProgressStyle progress_style_from(ProgressSetting setting) {
  if (setting == ProgressSetting::bar) return ProgressStyle::bar;
  if (setting == ProgressSetting::lines) return ProgressStyle::lines;
  if (setting == ProgressSetting::off) return ProgressStyle::off;
  return isatty(STDOUT_FILENO) ? ProgressStyle::bar : ProgressStyle::lines;
}

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(seconds + 0.5);
  char text[32];
  if (total >= 3600) std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, (total % 3600) / 60);
  else if (total >= 60) std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  else std::snprintf(text, sizeof text, "%llds", total);
  return text;
}

Progress::Progress(ProgressStyle style, int64_t max_epochs, int64_t log_every_n_steps)
    : style_(style), max_epochs_(max_epochs), every_(log_every_n_steps) {}

void Progress::begin_epoch(int64_t epoch, int64_t steps) {
  epoch_ = epoch;
  steps_ = steps;
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
}

std::string Progress::eta_text() const {
  if (epochs_done_ == 0) return "";
  const double per_epoch = seconds_total_ / static_cast<double>(epochs_done_);
  return format_duration(per_epoch * static_cast<double>(max_epochs_ - epoch_ - 1));
}

// Once per process, in its first epoch: a 4-minute silence before the first ETA made a slow config look hung.
void Progress::log_early_eta(int64_t step, double elapsed) {
  const double per_epoch = elapsed / static_cast<double>(step) * static_cast<double>(steps_);
  const auto epochs_left = static_cast<double>(max_epochs_ - epoch_);
  early_eta_ = "ETA (from the first " + std::to_string(step) + " batches): ~" + format_duration(per_epoch) +
               " per epoch, ~" + format_duration(per_epoch * epochs_left) + " for " +
               std::to_string(max_epochs_ - epoch_) + " epoch(s) of training (less if early stopping ends it)";
  if (line_open_) {
    std::printf("\n");
    std::fflush(stdout);
    line_open_ = false;
  }
  log::info(early_eta_);
}

void Progress::step(int64_t step, double loss, int64_t samples_done) {
  if (style_ == ProgressStyle::off) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  if (epochs_done_ == 0 && early_eta_.empty() && step == std::min(kEarlyEtaBatches, steps_)) {
    log_early_eta(step, elapsed);
  }
  const double rate = elapsed > 0 ? static_cast<double>(samples_done) / elapsed : 0.0;
  const double rss_mb = bytes_to_mb(monitor::current_rss_bytes());
  const bool last = step == steps_;
  if (style_ == ProgressStyle::bar) {
    // Redraw at most ~10 times a second: a terminal is slower than a small model.
    if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double epoch_eta = rate > 0 && step > 0 ? elapsed / static_cast<double>(step) * static_cast<double>(steps_ - step) : 0;
    std::printf("\r\033[Kepoch %lld/%lld  step %lld/%lld  loss %.4g  %.0f samples/s  epoch ETA %s  RSS %.0f MB",
                static_cast<long long>(epoch_ + 1), static_cast<long long>(max_epochs_), static_cast<long long>(step),
                static_cast<long long>(steps_), loss, rate, format_duration(epoch_eta).c_str(), rss_mb);
    std::fflush(stdout);
    line_open_ = true;
  } else if (step % every_ == 0 || last) {
    log::info("epoch " + std::to_string(epoch_ + 1) + "/" + std::to_string(max_epochs_) + " step " +
              std::to_string(step) + "/" + std::to_string(steps_) + " loss " + std::to_string(loss) + " " +
              std::to_string(static_cast<long long>(rate)) + " samples/s RSS " +
              std::to_string(static_cast<long long>(rss_mb)) + " MB");
  }
}

void Progress::end_epoch(double seconds_this_epoch) {
  if (line_open_) {
    std::printf("\n");
    std::fflush(stdout);
    line_open_ = false;
  }
  seconds_total_ += seconds_this_epoch;
  ++epochs_done_;
}

}  // namespace safetrain::train
