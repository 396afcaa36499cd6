#pragma once
// The safe-instantiation sequence of the seed (004), in one call: estimate,
// check free memory on the target device, log both, build on the CPU under
// no-grad, then move to the device. Use it before every build and checkpoint load.
#include <string>

#include "safetrain/models/memory_budget.hpp"
#include "safetrain/models/regression_model.hpp"

namespace safetrain::models {

struct SafeBuildOptions {
  int64_t batch_size = 4;
  std::string optimizer = "adamw";
  std::string precision = "32";
  std::string device = "cpu";  // "cpu" | "cuda" | "cuda:N"
  double min_free_mb = 1200;   // memory.min_free_mb
  bool training = true;        // false for predict (no gradients, no optimizer state)
};

// Throws InputError (bad spec/options) or ResourceError (does not fit) before allocating.
RegressionModel build_model_safely(const ModelSpec& spec, const SafeBuildOptions& options);

}  // namespace safetrain::models
