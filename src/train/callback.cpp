#include "safetrain/train/callback.hpp"

#include "safetrain/train/callbacks.hpp"

#include <stdexcept>
#include <string>

namespace safetrain::train {

const char* run_end_name(RunEnd end) {
  switch (end) {
    case RunEnd::completed: return "completed";
    case RunEnd::early_stopped: return "early stopping";
    case RunEnd::signal: return "stopped by signal";
    case RunEnd::nan_loss: return "stopped: non-finite loss";
    case RunEnd::out_of_memory: return "stopped: out of memory";
    case RunEnd::memory_alarm: return "stopped: memory alarm";
  }
  return "?";
}

nlohmann::json Counters::state_dict() const {
  return {{"epochs_completed", epochs_completed}, {"global_step", global_step}, {"nan_skipped", nan_skipped},
          {"micro_batch", micro_batch}};
}

int64_t checked_count(const nlohmann::json& state, const char* key, int64_t minimum) {
  constexpr int64_t kLargest = 1'000'000'000'000'000;  // far beyond any run, far below overflow
  const int64_t value = state.at(key).get<int64_t>();
  if (value < minimum || value > kLargest) {
    throw std::out_of_range(std::string(key) + " = " + std::to_string(value) + " is outside [" +
                            std::to_string(minimum) + ", 1e15]");
  }
  return value;
}

void Counters::load_state_dict(const nlohmann::json& state) {
  epochs_completed = checked_count(state, "epochs_completed");
  global_step = checked_count(state, "global_step");
  nan_skipped = checked_count(state, "nan_skipped");
  // Absent in checkpoints from before training.on_oom.
  micro_batch = state.contains("micro_batch") ? checked_count(state, "micro_batch") : 0;
}

void CallbackList::add(std::unique_ptr<Callback> callback) { callbacks_.push_back(std::move(callback)); }

void CallbackList::add_checkpoint(std::unique_ptr<CheckpointCallback> checkpoint) {
  checkpoint_ = checkpoint.get();
  add(std::move(checkpoint));
}

void CallbackList::end_epoch(FitContext& context, EpochRecord& record) {
  call(&Callback::on_train_epoch_end, context, record);
  const EpochRecord& complete = record;
  call(&Callback::log_metrics, context, complete);
}

std::optional<RunEnd> CallbackList::should_stop() const {
  // A resource or safety stop outranks "no more improvement".
  std::optional<RunEnd> found;
  for (const auto& c : callbacks_) {
    const auto request = c->should_stop();
    if (!request) continue;
    if (*request != RunEnd::early_stopped) return request;
    found = request;
  }
  return found;
}

}  // namespace safetrain::train
