// The progress bar (or plain lines) during an epoch, and the one-line epoch summary with the ETA.
#include <sstream>

#include "safetrain/common/log.hpp"
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

ProgressCallback::ProgressCallback(const config::Config& config)
    : progress_(progress_style_from(config.logging.progress), config.training.max_epochs,
                config.logging.log_every_n_steps),
      max_epochs_(config.training.max_epochs) {}

void ProgressCallback::on_train_epoch_start(FitContext&, EpochRecord& record) {
  progress_.begin_epoch(record.epoch - 1, record.batches);
}

void ProgressCallback::on_train_batch_end(FitContext&, const BatchEnd& batch) {
  progress_.step(batch.batch, batch.mean_loss, batch.samples);
}

void ProgressCallback::on_train_end(FitContext&, EpochRecord& record) {
  progress_.end_epoch(record.metrics.value_or(metric::kSeconds, 0.0));
}

void ProgressCallback::log_metrics(FitContext&, const EpochRecord& r) {
  std::ostringstream line;
  line << "epoch " << r.epoch << "/" << max_epochs_;
  for (const auto& entry : r.metrics.entries()) {
    if (entry.show == MetricsRecord::Show::on_epoch_line) line << "  " << entry.key << " " << entry.value;
  }
  if (const auto eta = progress_.eta_text(); !eta.empty() && r.epoch < max_epochs_) line << "  ETA " << eta;
  log::info(line.str());
}

}  // namespace safetrain::train
