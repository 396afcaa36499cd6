#pragma once
// Device and thread setup from `training.device`, `training.threads` and
// `memory.device_budget_mb`.
#include <torch/torch.h>

#include <string>

#include "safetrain/train/training_options.hpp"

namespace safetrain::train {

void apply_threads(AutoCount threads);  // auto = every core
// CUDA: caps the caching allocator at budget_mb (memory fraction of the device). Returns what it did.
std::string apply_device_budget(const torch::Device& device, double budget_mb);
// Clean out-of-memory detection across LibTorch versions.
bool is_out_of_memory(const c10::Error& error);

}  // namespace safetrain::train
