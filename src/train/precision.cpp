#include "safetrain/train/precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

// LibTorch 2.4 replaced the per-device autocast setters with ones taking a DeviceType.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SAFETRAIN_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace safetrain::train {
namespace {

bool autocast_enabled(bool cuda) {
#ifdef SAFETRAIN_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
  return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void set_autocast(bool cuda, bool enabled, std::optional<torch::ScalarType> dtype) {
#ifdef SAFETRAIN_AUTOCAST_BY_DEVICE_TYPE
  const auto type = cuda ? at::kCUDA : at::kCPU;
  if (dtype) at::autocast::set_autocast_dtype(type, *dtype);
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (cuda) {
    if (dtype) at::autocast::set_autocast_gpu_dtype(*dtype);
    at::autocast::set_enabled(enabled);
  } else {
    if (dtype) at::autocast::set_autocast_cpu_dtype(*dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
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
