// The TensorBoard sink (tensorboard_callback.hpp).
#include "safetrain/train/tensorboard_callback.hpp"

#include <cmath>

namespace safetrain::train {

void TensorBoardCallback::on_fit_start(FitContext& c) {
  // Each session begins with a START at the first step it logs: after a resume TensorBoard then drops what the
  // earlier session logged for the epochs (and steps) this one repeats, as metrics.csv drops their rows.
  epochs_ = std::make_unique<tensorboard::EventFileWriter>(c.layout.tensorboard());
  epochs_->add_session_start(c.counters.epochs_completed + 1);
  epochs_->flush();
  if (step_loss_) {
    steps_ = std::make_unique<tensorboard::EventFileWriter>(c.layout.tensorboard_steps());
    steps_->add_session_start(c.counters.global_step + 1);
    steps_->flush();
  }
}

void TensorBoardCallback::on_train_epoch_start(FitContext& c, EpochRecord&) {
  step_ = c.counters.global_step;  // the steps of an unfinished epoch are not counted (resume repeats them)
  window_loss_ = 0;
  window_batches_ = 0;
}

void TensorBoardCallback::on_train_batch_end(FitContext&, const BatchEnd& batch) {
  if (!steps_) return;
  if (!std::isnan(batch.loss)) {
    window_loss_ += batch.loss;
    ++window_batches_;
  }
  if (!batch.stepped) return;
  ++step_;
  if (window_batches_ > 0) steps_->add_scalars(step_, {{"train_loss_step", window_loss_ / window_batches_}});
  window_loss_ = 0;
  window_batches_ = 0;
}

void TensorBoardCallback::log_metrics(FitContext&, const EpochRecord& record) {
  std::vector<std::pair<std::string, double>> scalars;
  for (const auto& entry : record.metrics.entries()) scalars.emplace_back(entry.key, entry.value);
  epochs_->add_scalars(record.epoch, scalars);
  epochs_->flush();
  if (steps_) steps_->flush();
}

void TensorBoardCallback::on_fit_end(FitContext&, RunEnd) {
  if (steps_) steps_->flush();
}

}  // namespace safetrain::train
