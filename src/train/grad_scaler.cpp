#include "safetrain/train/grad_scaler.hpp"

#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include "safetrain/train/callback.hpp"

namespace safetrain::train {

GradScaler::GradScaler(GradScalerOptions options) : options_(options) { state_.scale = options.init_scale; }

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const {
  if (!options_.enabled) return loss;
  return loss * state_.scale;
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& parameters) {
  if (!options_.enabled || unscaled_) return found_inf_;
  torch::NoGradGuard no_grad;
  // As torch.amp.GradScaler: gradients grouped by device and dtype, each group unscaled and checked by one
  // fused kernel that raises a flag on its device, and one host sync for the whole step.
  std::map<std::string, std::vector<torch::Tensor>> groups;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    const auto grad = p.grad();
    groups[grad.device().str() + "/" + std::string(c10::toString(grad.scalar_type()))].push_back(grad);
  }
  torch::Tensor found_total = torch::zeros({1}, torch::kFloat);
  for (auto& [key, grads] : groups) {
    const auto on = torch::TensorOptions().dtype(torch::kFloat).device(grads.front().device());
    auto found = torch::zeros({1}, on);
    const auto inverse = torch::full({1}, 1.0 / state_.scale, on);
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found, inverse);
    found_total += found.to(torch::kCPU, /*non_blocking=*/false);
  }
  unscaled_ = true;
  found_inf_ = found_total.item<float>() > 0.0f;
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
  if (!(state_.scale > 0) || !std::isfinite(state_.scale)) throw std::out_of_range("scale is not a positive number");
  state_.growth_tracker = checked_count(state, "growth_tracker");
  state_.skipped_steps = checked_count(state, "skipped_steps");
}

}  // namespace safetrain::train
