// The per-epoch learning rate (warm-up, then the schedule), and the plateau schedule's metric.
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void LearningRateCallback::on_train_epoch_start(FitContext&, EpochRecord& record) {
  const double lr = schedule_.lr_for_epoch(record.epoch - 1);
  set_learning_rate(optimizer_, lr);
  record.metrics.log(metric::kLr, lr, MetricsRecord::Show::on_epoch_line);
}

void LearningRateCallback::on_train_epoch_end(FitContext&, EpochRecord& record) {
  if (!std::isnan(record.monitored)) schedule_.observe_metric(record.monitored);
}

nlohmann::json LearningRateCallback::state_dict() const {
  const auto s = schedule_.state();
  return {{"plateau", s.tracker.state_dict()}, {"reductions", s.reductions}};
}

void LearningRateCallback::load_state_dict(const nlohmann::json& state) {
  LearningRateSchedule::State s;
  s.tracker.load_state_dict(state.at("plateau"));
  s.reductions = state.at("reductions").get<int64_t>();
  schedule_.load_state(s);
}

}  // namespace safetrain::train
