#pragma once
// The safe-instantiation sequence of the seed (004), in one call: estimate,
// check free memory on the target device, log both, build on the CPU under
// no-grad, then move to the device. Use it before every build and checkpoint load.
#include <cstdint>
#include <string>

#include "safetrain/models/memory_budget.hpp"
#include "safetrain/models/regression_model.hpp"
#include "safetrain/models/run_kinds.hpp"

namespace safetrain::models {

// The first four come from the config (their defaults live there), so the
// constructor asks for them; the last two are decided at run time.
struct SafeBuildOptions {
  SafeBuildOptions(int64_t batch_size, OptimizerKind optimizer, Precision precision, double min_free_mb)
      : batch_size(batch_size), optimizer(optimizer), precision(precision), min_free_mb(min_free_mb) {}

  int64_t batch_size;          // training.batch_size
  OptimizerKind optimizer;     // training.optimizer
  Precision precision;         // training.precision
  double min_free_mb;          // memory.min_free_mb
  std::string device = "cpu";  // "cpu" | "cuda" | "cuda:N", the resolved device
  bool training = true;        // false for predict (no gradients, no optimizer state)
  double device_budget_mb = 0;  // memory.device_budget_mb: caps a GPU's free memory (0: none)
};

// Throws InputError (bad spec/options) or ResourceError (does not fit) before allocating.
RegressionModel build_model_safely(const ModelSpec& spec, const SafeBuildOptions& options);

}  // namespace safetrain::models
