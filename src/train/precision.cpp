#include "safetrain/train/precision.hpp"

#include "safetrain/device/torch_compat.hpp"

namespace safetrain::train {
namespace {

bool autocast_enabled(bool cuda) { return device::compat::autocast_enabled(cuda ? at::kCUDA : at::kCPU); }

void set_autocast(bool cuda, bool enabled, std::optional<torch::ScalarType> dtype) {
  device::compat::set_autocast(cuda ? at::kCUDA : at::kCPU, enabled, dtype);
}

}  // namespace

PrecisionPlan plan_precision(models::Precision requested, const torch::Device& device) {
  PrecisionPlan plan;
  plan.requested = requested;
  const bool cuda = device.is_cuda();
  if (requested == models::Precision::fp16) {
    if (cuda) {
      plan.autocast = torch::kHalf;
      plan.loss_scaling = true;
      plan.explanation = "precision 16: fp16 autocast with dynamic loss scaling";
    } else {
      plan.explanation =
          "precision 16 requested on the CPU: training in fp32 instead (CPU fp16 kernels are slower than fp32 "
          "and fp16 saves no device memory here); use bf16 for CPU autocast";
    }
  } else if (requested == models::Precision::bf16) {
    plan.autocast = torch::kBFloat16;
    plan.explanation = cuda ? "precision bf16: bf16 autocast (no loss scaling needed)"
                            : "precision bf16: CPU autocast to bfloat16";
  } else {
    plan.explanation = "precision 32: fp32";
  }
  return plan;
}

AutocastScope::AutocastScope(const PrecisionPlan& plan, const torch::Device& device) {
  if (!plan.autocast) return;
  cuda_ = device.is_cuda();
  previous_enabled_ = autocast_enabled(cuda_);
  set_autocast(cuda_, true, plan.autocast);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost region drops autocast's cast cache, as torch.autocast's __exit__ does.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(cuda_, previous_enabled_, std::nullopt);
}

}  // namespace safetrain::train
