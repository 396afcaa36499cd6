#include "safetrain/train/optimizer_step.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace safetrain::train {

int64_t window_size(int64_t batch_index, int64_t batches, int64_t accumulate) {
  const int64_t window_start = (batch_index / accumulate) * accumulate;
  return std::min(accumulate, batches - window_start);
}

OptimizerStep::OptimizerStep(std::vector<torch::Tensor> parameters, torch::optim::Optimizer& optimizer,
                             GradScaler& scaler, StepSettings settings)
    : parameters_(std::move(parameters)), optimizer_(optimizer), scaler_(scaler), settings_(std::move(settings)) {}

void OptimizerStep::backward(const torch::Tensor& loss, int64_t window) {
  scaler_.scale(loss / static_cast<double>(window)).backward();
}

bool OptimizerStep::finish_window() {
  const bool found_inf = scaler_.unscale(parameters_);
  last_norm_ = std::nullopt;
  ++windows_;
  if (!found_inf) {
    const bool clip_norm = settings_.gradient_clip_val > 0.0 && settings_.gradient_clip_algorithm == ClipAlgorithm::norm;
    if (clip_norm) {
      last_norm_ = torch::nn::utils::clip_grad_norm_(parameters_, settings_.gradient_clip_val);  // the norm before
    } else {
      // Measured without clipping only now and then: a norm per step costs a pass over every gradient.
      if (windows_ % kUnclippedNormEvery == 1 || kUnclippedNormEvery == 1) last_norm_ = gradient_norm();
      if (settings_.gradient_clip_val > 0.0) torch::nn::utils::clip_grad_value_(parameters_, settings_.gradient_clip_val);
    }
  }
  const bool stepped = scaler_.step(optimizer_, parameters_);
  scaler_.update();
  optimizer_.zero_grad();
  return stepped;
}

double OptimizerStep::gradient_norm() const {
  std::vector<torch::Tensor> norms;
  for (const auto& p : parameters_) {
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  }
  return norms.empty() ? 0.0 : torch::stack(norms).norm().item<double>();
}

void OptimizerStep::discard_gradients() {
  optimizer_.zero_grad();
}

}  // namespace safetrain::train
