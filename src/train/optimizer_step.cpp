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
  last_norm_ = NAN;
  if (!found_inf) {
    const bool clip_norm = settings_.gradient_clip_val > 0.0 && settings_.gradient_clip_algorithm == ClipAlgorithm::norm;
    // The norm before clipping: clip_grad_norm_ returns it; without norm clipping, an infinite threshold
    // measures it without scaling anything.
    last_norm_ = torch::nn::utils::clip_grad_norm_(
        parameters_, clip_norm ? settings_.gradient_clip_val : std::numeric_limits<double>::infinity());
    if (settings_.gradient_clip_val > 0.0 && !clip_norm) {
      torch::nn::utils::clip_grad_value_(parameters_, settings_.gradient_clip_val);
    }
  }
  const bool stepped = scaler_.step(optimizer_, parameters_);
  scaler_.update();
  optimizer_.zero_grad();
  return stepped;
}

void OptimizerStep::discard_gradients() {
  optimizer_.zero_grad();
}

}  // namespace safetrain::train
