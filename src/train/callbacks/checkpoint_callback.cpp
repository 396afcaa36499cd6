// checkpoints/last after every epoch; checkpoints/best when the monitored metric beats the best by more
// than training.min_delta (the rule early stopping uses, so the two never disagree on "improved").
#include "safetrain/common/log.hpp"
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void CheckpointCallback::on_train_epoch_end(FitContext& c, EpochRecord& record) {
  const bool improved = !std::isnan(record.monitored) && best_.observe(record.monitored, min_delta_);
  if (improved) best_epoch_ = record.epoch;
  // `last` first: a crash between the two writes leaves a last that is at least as new as best.
  c.save_checkpoint(c.layout.last_checkpoint());
  if (improved) c.save_checkpoint(c.layout.best_checkpoint());
}

void CheckpointCallback::on_fit_start(FitContext& c) {
  // A fresh run starts with its initial state on disk, so even a stop in the first epoch leaves a checkpoint
  // that --resume continues from (epoch 0 = nothing trained yet).
  if (c.counters.epochs_completed == 0) c.save_checkpoint(c.layout.last_checkpoint());
}

void CheckpointCallback::on_stop(FitContext& c, RunEnd reason) {
  // Weights of an unfinished epoch are not saved: resuming from the epoch boundary repeats the interrupted
  // epoch exactly, so a resumed run equals an uninterrupted one bit for bit.
  log::info(run_end_name(reason), ": checkpoints/last holds epoch ", c.counters.epochs_completed,
            "; --resume continues from there");
}

nlohmann::json CheckpointCallback::state_dict() const {
  return {{"best", best_.state_dict()}, {"best_epoch", best_epoch_}};
}

void CheckpointCallback::load_state_dict(const nlohmann::json& state) {
  best_.load_state_dict(state.at("best"));
  best_epoch_ = checked_count(state, "best_epoch", /*minimum=*/-1);
}

}  // namespace safetrain::train
