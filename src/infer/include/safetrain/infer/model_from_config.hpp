#pragma once
// Model construction from a config, always through the safe-instantiation
// check: estimate, compare with free memory, build on the CPU, then move.
#include <string>
#include <vector>

#include "safetrain/models/model_spec.hpp"
#include "safetrain/models/regression_model.hpp"
#include "safetrain/config/config.hpp"

namespace safetrain::infer {

models::ModelSpec model_spec_from(const config::Config& config, int64_t features, const std::vector<std::string>& targets);

// Logs the parameter count and the memory estimate; throws ResourceError when it does not fit.
models::RegressionModel build_checked_model(const models::ModelSpec& spec, const config::Config& config,
                                            const torch::Device& device, bool training = true);

}  // namespace safetrain::infer
