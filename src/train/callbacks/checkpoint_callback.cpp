// checkpoints/last every checkpoint.every_n_epochs epochs; checkpoints/best when the monitored metric beats the
// best by more than training.min_delta (the rule early stopping uses, so the two never disagree on "improved").
#include "safetrain/common/log.hpp"
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void CheckpointCallback::save_last(FitContext& c) {
  c.save_checkpoint(c.layout.last_checkpoint());
  last_epoch_ = c.counters.epochs_completed;
}

void CheckpointCallback::on_train_epoch_end(FitContext& c, EpochRecord& record) {
  const bool improved = !std::isnan(record.monitored) && best_.observe(record.monitored, min_delta_);
  if (improved) best_epoch_ = record.epoch;
  // `last` first: a crash between the two writes leaves a last that is at least as new as best.
  if (record.epoch % every_n_epochs_ == 0 || record.epoch >= max_epochs_) save_last(c);
  if (improved) c.save_checkpoint(c.layout.best_checkpoint());
}

void CheckpointCallback::catch_up(FitContext& c) {
  if (last_epoch_ < c.counters.epochs_completed) save_last(c);
}

void CheckpointCallback::on_fit_start(FitContext& c) {
  // A fresh run starts with its initial state on disk, so even a stop in the first epoch leaves a checkpoint
  // that --resume continues from (epoch 0 = nothing trained yet).
  if (c.counters.epochs_completed == 0) save_last(c);
  else last_epoch_ = c.counters.epochs_completed;  // resumed from it
}

void CheckpointCallback::on_stop(FitContext& c, RunEnd reason) {
  // Weights of an unfinished epoch are not saved: resuming from the epoch boundary repeats the interrupted
  // epoch exactly, so a resumed run equals an uninterrupted one bit for bit.
  log::info(run_end_name(reason), ": checkpoints/last holds epoch ", std::max<int64_t>(0, last_epoch_),
            " (of ", c.counters.epochs_completed, " completed); --resume continues from there");
}

nlohmann::json CheckpointCallback::state_dict() const {
  return {{"best", best_.state_dict()}, {"best_epoch", best_epoch_}};
}

void CheckpointCallback::load_state_dict(const nlohmann::json& state) {
  best_.load_state_dict(state.at("best"));
  best_epoch_ = checked_count(state, "best_epoch", /*minimum=*/-1);
}

}  // namespace safetrain::train
