#pragma once
// Device and thread setup from `training.device`, `training.threads` and
// `memory.device_budget_mb`.
#include <torch/torch.h>

#include <string>

#include "safetrain/train/training_options.hpp"

namespace safetrain::train {

// Sets the intra-op threads (auto = every core); first refuses (ResourceError, exit 3) when RLIMIT_AS cannot
// hold the thread pools of LibTorch and OpenBLAS (see refuse_small_address_space).
void apply_threads(AutoCount threads);
// CUDA: caps the caching allocator at budget_mb (memory fraction of the device). Returns what it did.
std::string apply_device_budget(const torch::Device& device, double budget_mb);
// Clean out-of-memory detection across LibTorch versions.
bool is_out_of_memory(const c10::Error& error);

}  // namespace safetrain::train
