// Early stopping only sets a stop request, as Lightning's EarlyStopping sets trainer.should_stop.
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void EarlyStoppingCallback::on_train_epoch_end(FitContext&, EpochRecord& record) {
  if (!std::isnan(record.monitored)) stopping_.observe(record.monitored);
}

std::optional<RunEnd> EarlyStoppingCallback::should_stop() const {
  if (stopping_.should_stop()) return RunEnd::early_stopped;
  return std::nullopt;
}

nlohmann::json EarlyStoppingCallback::state_dict() const { return stopping_.state().state_dict(); }

void EarlyStoppingCallback::load_state_dict(const nlohmann::json& state) {
  ImprovementTracker tracker;
  tracker.load_state_dict(state);
  stopping_.load_state(tracker);
}

}  // namespace safetrain::train
