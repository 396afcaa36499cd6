#pragma once
// Dynamic loss scaling for fp16 training. LibTorch has no C++ GradScaler, so
// this follows torch.cuda.amp.GradScaler: scale the loss, unscale gradients
// before clipping, skip the step and back off when a gradient is inf/NaN,
// grow the scale after `growth_interval` clean steps.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace safetrain::train {

struct GradScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
  bool enabled = true;
};

struct GradScalerState {
  double scale = 0;  // set from GradScalerOptions::init_scale
  int64_t growth_tracker = 0;
  int64_t skipped_steps = 0;
};

class GradScaler {
 public:
  explicit GradScaler(GradScalerOptions options = {});

  bool enabled() const { return options_.enabled; }
  torch::Tensor scale(const torch::Tensor& loss) const;
  // Divides every gradient by the scale (once per step); returns true when any is inf/NaN.
  bool unscale(const std::vector<torch::Tensor>& parameters);
  // Steps the optimizer unless the unscaled gradients held inf/NaN; returns whether it stepped.
  bool step(torch::optim::Optimizer& optimizer, const std::vector<torch::Tensor>& parameters);
  // Adjusts the scale after a step and re-arms unscale for the next one.
  void update();

  double current_scale() const { return state_.scale; }
  int64_t skipped_steps() const { return state_.skipped_steps; }
  nlohmann::json state_dict() const;
  void load_state_dict(const nlohmann::json& state);

 private:
  GradScalerOptions options_;
  GradScalerState state_;
  bool unscaled_ = false;
  bool found_inf_ = false;
};

}  // namespace safetrain::train
