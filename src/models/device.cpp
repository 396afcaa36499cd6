#include "safetrain/models/device.hpp"

#include <torch/cuda.h>

#include "safetrain/common/error.hpp"

namespace safetrain::models {

c10::Device resolve_device(DeviceSetting setting) {
  const bool have_cuda = torch::cuda::is_available();
  if (setting == DeviceSetting::cuda && !have_cuda) {
    throw InputError("training.device: cuda requested, but this LibTorch build has no CUDA or no GPU is visible; "
                     "use auto or cpu");
  }
  if (setting == DeviceSetting::cpu || !have_cuda) return c10::Device(c10::kCPU);
  return c10::Device(c10::kCUDA, 0);
}

}  // namespace safetrain::models
