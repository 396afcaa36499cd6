#include "safetrain/models/safe_build.hpp"

#include <torch/torch.h>

#include "safetrain/common/log.hpp"

namespace safetrain::models {

RegressionModel build_model_safely(const ModelSpec& spec, const SafeBuildOptions& options) {
  const auto estimate =
      estimate_memory(spec, options.batch_size, options.optimizer, options.precision, options.training);
  const auto budget = capped_by_device_budget(current_budget(options.device), options.device_budget_mb);
  log::info("memory estimate: ", estimate.summary(), "; ", format_mb(budget.free_bytes), " free on ",
            budget.device, " (", budget.source, ")");
  check_fits(estimate, budget, options.min_free_mb, options.batch_size);
  RegressionModel model = build_model(spec);
  if (budget.device != "cpu") model->to(torch::Device(budget.device));
  return model;
}

}  // namespace safetrain::models
