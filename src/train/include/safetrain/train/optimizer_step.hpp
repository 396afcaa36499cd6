#pragma once
// One training step's gradient bookkeeping: loss scaling for accumulation
// (and fp16), clipping on unscaled gradients, the optimizer step and
// zero_grad at the end of each accumulation window.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "safetrain/train/grad_scaler.hpp"
#include "safetrain/train/training_options.hpp"

namespace safetrain::train {

struct StepSettings {
  int64_t accumulate_grad_batches = 1;
  double gradient_clip_val = 0.0;            // 0 = off
  ClipAlgorithm gradient_clip_algorithm = ClipAlgorithm::norm;
};

// Size of the accumulation window holding batch `batch_index` (0-based) when
// an epoch has `batches` batches: the last window may be shorter, and its
// loss is divided by its real size so its gradient is still a mean.
int64_t window_size(int64_t batch_index, int64_t batches, int64_t accumulate);

class OptimizerStep {
 public:
  OptimizerStep(std::vector<torch::Tensor> parameters, torch::optim::Optimizer& optimizer, GradScaler& scaler,
                StepSettings settings);

  // Backward of `loss` (a batch mean) scaled for accumulation and fp16.
  void backward(const torch::Tensor& loss, int64_t window);
  // Ends a window: unscale, clip, step (unless the scaler found inf), zero grads.
  // Returns true when the optimizer stepped.
  bool finish_window();
  void discard_gradients();  // after a failed step (OOM): drop what the window accumulated
  // The global gradient norm before clipping at the last step: every step when clipping by norm (it is
  // computed anyway), else every kUnclippedNormEvery-th step; nullopt when not measured.
  std::optional<double> last_gradient_norm() const { return last_norm_; }
  static constexpr int64_t kUnclippedNormEvery = 16;

 private:
  std::vector<torch::Tensor> parameters_;
  torch::optim::Optimizer& optimizer_;
  GradScaler& scaler_;
  StepSettings settings_;
  double gradient_norm() const;
  std::optional<double> last_norm_;
  int64_t windows_ = 0;
};

}  // namespace safetrain::train
