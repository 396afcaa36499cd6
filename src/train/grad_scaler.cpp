#include "safetrain/train/grad_scaler.hpp"

namespace safetrain::train {

GradScaler::GradScaler(GradScalerOptions options) : options_(options) { state_.scale = options.init_scale; }

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const {
  if (!options_.enabled) return loss;
  return loss * state_.scale;
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& parameters) {
  if (!options_.enabled || unscaled_) return found_inf_;
  torch::NoGradGuard no_grad;
  const double inverse = 1.0 / state_.scale;
  bool found = false;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    auto grad = p.mutable_grad();
    grad.mul_(inverse);
    // One reduction per tensor; a single sync at the end would need a fused kernel LibTorch 1.13 lacks.
    if (!found && !torch::isfinite(grad).all().item<bool>()) found = true;
  }
  unscaled_ = true;
  found_inf_ = found;
  return found_inf_;
}

bool GradScaler::step(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& parameters) {
  if (!options_.enabled) {
    optimizer.step();
    return true;
  }
  if (!unscaled_) unscale(parameters);
  if (found_inf_) {
    ++state_.skipped_steps;
    return false;
  }
  optimizer.step();
  return true;
}

void GradScaler::update() {
  if (!options_.enabled) return;
  if (found_inf_) {
    state_.scale *= options_.backoff_factor;
    state_.growth_tracker = 0;
  } else if (++state_.growth_tracker >= options_.growth_interval) {
    state_.scale *= options_.growth_factor;
    state_.growth_tracker = 0;
  }
  unscaled_ = false;
  found_inf_ = false;
}

nlohmann::json GradScaler::state_dict() const {
  return {{"scale", state_.scale}, {"growth_tracker", state_.growth_tracker}, {"skipped_steps", state_.skipped_steps}};
}

void GradScaler::load_state_dict(const nlohmann::json& state) {
  state_.scale = state.at("scale").get<double>();
  state_.growth_tracker = state.at("growth_tracker").get<int64_t>();
  state_.skipped_steps = state.at("skipped_steps").get<int64_t>();
}

}  // namespace safetrain::train
