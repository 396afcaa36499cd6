#include "safetrain/infer/model_from_config.hpp"

#include "safetrain/models/safe_build.hpp"
#include "safetrain/monitor/trim.hpp"

namespace safetrain::infer {

models::ModelSpec model_spec_from(const config::Config& config, int64_t features,
                                  const std::vector<std::string>& targets) {
  models::ModelSpec spec;
  static_cast<models::ModelOptions&>(spec) = config.model;
  spec.input_features = features;
  spec.outputs = static_cast<int64_t>(targets.size());
  spec.output_names = targets;
  models::validate(spec);
  return spec;
}

models::RegressionModel build_checked_model(const models::ModelSpec& spec, const config::Config& config,
                                            const torch::Device& device, bool training) {
  // Return cached memory first, as the seed's safe instantiation cleans up before it measures.
  monitor::release_cached_memory();
  models::SafeBuildOptions options(config.training.batch_size, config.training.optimizer, config.training.precision,
                                   config.memory.min_free_mb);
  options.device = device.str();
  options.training = training;
  options.device_budget_mb = config.memory.device_budget_mb;
  return models::build_model_safely(spec, options);
}

}  // namespace safetrain::infer
