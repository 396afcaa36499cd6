#include "safetrain/train/optimization.hpp"

#include "safetrain/train/callback.hpp"

#include <algorithm>
#include <cmath>

namespace safetrain::train {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainingOptions& t,
                                                        std::vector<torch::Tensor> parameters) {
  if (t.optimizer == models::OptimizerKind::adam) {
    return std::make_unique<torch::optim::Adam>(std::move(parameters),
                                                torch::optim::AdamOptions(t.lr).weight_decay(t.weight_decay));
  }
  if (t.optimizer == models::OptimizerKind::adamw) {
    return std::make_unique<torch::optim::AdamW>(std::move(parameters),
                                                 torch::optim::AdamWOptions(t.lr).weight_decay(t.weight_decay));
  }
  return std::make_unique<torch::optim::SGD>(
      std::move(parameters), torch::optim::SGDOptions(t.lr).momentum(t.momentum).weight_decay(t.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

double learning_rate(const torch::optim::Optimizer& optimizer) {
  return optimizer.param_groups().front().options().get_lr();
}

namespace {
int64_t bytes_of(const torch::Tensor& t) { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; }
}  // namespace

int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer) {
  int64_t bytes = 0;
  for (const auto& [key, state] : optimizer.state()) {
    if (const auto* a = dynamic_cast<const torch::optim::AdamParamState*>(state.get())) {
      bytes += bytes_of(a->exp_avg()) + bytes_of(a->exp_avg_sq()) + bytes_of(a->max_exp_avg_sq());
    } else if (const auto* w = dynamic_cast<const torch::optim::AdamWParamState*>(state.get())) {
      bytes += bytes_of(w->exp_avg()) + bytes_of(w->exp_avg_sq()) + bytes_of(w->max_exp_avg_sq());
    } else if (const auto* m = dynamic_cast<const torch::optim::SGDParamState*>(state.get())) {
      bytes += bytes_of(m->momentum_buffer());
    }
  }
  return bytes;
}

bool ImprovementTracker::observe(double value, double min_delta) {
  if (std::isfinite(value) && value < best - min_delta) {
    best = value;
    bad_checks = 0;
    return true;
  }
  ++bad_checks;
  return false;
}

nlohmann::json ImprovementTracker::state_dict() const {
  return {{"best", std::isfinite(best) ? nlohmann::json(best) : nlohmann::json(nullptr)}, {"bad_checks", bad_checks}};
}

void ImprovementTracker::load_state_dict(const nlohmann::json& state) {
  best = state.at("best").is_null() ? std::numeric_limits<double>::infinity() : state.at("best").get<double>();
  bad_checks = checked_count(state, "bad_checks");
}

LearningRateSchedule::LearningRateSchedule(const TrainingOptions& training) : training_(training) {}

double LearningRateSchedule::lr_for_epoch(int64_t epoch) const {
  const double base = training_.lr;
  const int64_t warmup = training_.warmup_epochs;
  if (epoch < warmup) return base * static_cast<double>(epoch + 1) / static_cast<double>(warmup + 1);
  const int64_t t = epoch - warmup;
  double lr = base;
  if (training_.scheduler == Scheduler::cosine) {
    const int64_t span = std::max<int64_t>(1, training_.max_epochs - warmup);
    const double progress = std::min(1.0, static_cast<double>(t) / static_cast<double>(span));
    lr = training_.min_lr + (base - training_.min_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
  } else if (training_.scheduler == Scheduler::step) {
    lr = base * std::pow(training_.gamma, static_cast<double>(t / training_.step_size));
  } else if (training_.scheduler == Scheduler::plateau) {
    lr = base * std::pow(training_.gamma, static_cast<double>(state_.reductions));
  }
  return std::max(lr, std::min(training_.min_lr, base));
}

void LearningRateSchedule::observe_metric(double value) {
  if (training_.scheduler != Scheduler::plateau) return;
  state_.tracker.observe(value, training_.min_delta);
  if (state_.tracker.bad_checks > training_.plateau_patience) {
    ++state_.reductions;
    state_.tracker.bad_checks = 0;
  }
}

EarlyStopping::EarlyStopping(bool enabled, int64_t patience, double min_delta)
    : enabled_(enabled), patience_(patience), min_delta_(min_delta) {}

bool EarlyStopping::observe(double value) { return tracker_.observe(value, min_delta_); }

}  // namespace safetrain::train
