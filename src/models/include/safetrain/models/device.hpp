#pragma once
// The device a model runs on, from the `training.device` / `predict --device`
// setting. Beside the models so inference resolves it without the trainer.
#include <string>

#include <c10/core/Device.h>

#include "safetrain/models/run_kinds.hpp"

namespace safetrain::models {

// "auto" = CUDA when LibTorch has it and a device exists; "cuda" without one is an InputError.
c10::Device resolve_device(DeviceSetting setting);

}  // namespace safetrain::models
