#include "safetrain/train/callback.hpp"

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

void Counters::load_state_dict(const nlohmann::json& state) {
  epochs_completed = state.at("epochs_completed").get<int64_t>();
  global_step = state.at("global_step").get<int64_t>();
  nan_skipped = state.at("nan_skipped").get<int64_t>();
  micro_batch = state.value("micro_batch", int64_t{0});  // absent in checkpoints from before training.on_oom
}

void CallbackList::add(std::unique_ptr<Callback> callback) { callbacks_.push_back(std::move(callback)); }

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
