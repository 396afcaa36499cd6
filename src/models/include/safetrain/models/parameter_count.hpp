#pragma once
// Parameter counts: the closed-form figure for a spec (used by the memory
// estimate before anything is allocated) and the count of a built module.
#include <cstdint>

#include <torch/nn/module.h>

#include "safetrain/models/model_spec.hpp"

namespace safetrain::models {

// Same figure as the Python reference (shared/bench/torch_reference.py) for the same shapes.
int64_t expected_parameter_count(const ModelSpec& spec);

// Elements over every parameter of `module` (recursively).
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace safetrain::models
