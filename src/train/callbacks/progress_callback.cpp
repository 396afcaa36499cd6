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

void ProgressCallback::on_train_end(FitContext&, EpochRecord& record) { progress_.end_epoch(record.seconds); }

void ProgressCallback::on_train_epoch_end(FitContext&, EpochRecord& r) {
  std::ostringstream line;
  line << "epoch " << r.epoch << "/" << max_epochs_ << "  train_loss " << r.train_loss;
  if (r.val_loss) line << "  val_loss " << *r.val_loss << "  val_r2 " << r.val_r2.value_or(NAN);
  line << "  lr " << r.lr << "  " << static_cast<int64_t>(r.samples_per_s) << " samples/s  loader wait "
       << static_cast<int64_t>(100.0 * r.loader_wait_fraction) << "%  RSS " << static_cast<int64_t>(r.rss_mb) << " MB";
  if (const auto eta = progress_.eta_text(); !eta.empty() && r.epoch < max_epochs_) line << "  ETA " << eta;
  log::info(line.str());
}

}  // namespace safetrain::train
