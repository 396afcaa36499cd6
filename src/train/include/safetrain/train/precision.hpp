#pragma once
// What `training.precision` means on the chosen device, and an RAII scope
// that turns LibTorch autocast on for the forward pass.
#include <torch/torch.h>

#include <optional>
#include <string>

#include "safetrain/models/run_kinds.hpp"

namespace safetrain::train {

struct PrecisionPlan {
  models::Precision requested = models::Precision::fp32;
  std::optional<torch::ScalarType> autocast;    // dtype of autocast regions; none = fp32
  bool loss_scaling = false;                    // fp16 on CUDA needs a dynamic loss scaler
  std::string explanation;                      // logged once at start-up
};

// CPU: 16 becomes 32 (no fast fp16 kernels there, said once); bf16 uses CPU autocast.
PrecisionPlan plan_precision(models::Precision requested, const torch::Device& device);

// Enables autocast for `device` with the plan's dtype while alive; restores the previous state.
class AutocastScope {
 public:
  AutocastScope(const PrecisionPlan& plan, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool previous_enabled_ = false;
};

}  // namespace safetrain::train
