#include "safetrain/infer/model_from_config.hpp"

#include "safetrain/models/parse_setting.hpp"
#include "safetrain/models/safe_build.hpp"
#include "safetrain/monitor/trim.hpp"

namespace safetrain::infer {

models::ModelSpec model_spec_from(const train::Config& config, int64_t features, const std::vector<std::string>& targets) {
  const auto& m = config.model;
  models::ModelSpec spec;
  spec.type = models::parse_setting<models::ModelFamily>("model.type", m.type);
  spec.input_features = features;
  spec.outputs = static_cast<int64_t>(targets.size());
  spec.output_names = targets;
  spec.hidden = m.hidden;
  spec.mlp_layers = m.mlp_layers;
  spec.dropout = m.dropout;
  spec.token_type = models::parse_setting<models::TokenType>("model.token_type", m.token_type);
  spec.patch_size = m.patch_size;
  spec.d_model = m.d_model;
  spec.num_heads = m.num_heads;
  spec.num_layers = m.num_layers;
  spec.dim_feedforward = m.dim_feedforward;
  models::validate(spec);
  return spec;
}

models::RegressionModel build_checked_model(const models::ModelSpec& spec, const train::Config& config,
                                            const torch::Device& device, bool training) {
  // Return cached memory first, as the seed's safe instantiation cleans up before it measures.
  monitor::release_cached_memory();
  models::SafeBuildOptions options(
      config.training.batch_size,
      models::parse_setting<models::OptimizerKind>("training.optimizer", config.training.optimizer),
      models::parse_setting<models::Precision>("training.precision", config.training.precision),
      config.memory.min_free_mb);
  options.device = device.str();
  options.training = training;
  return models::build_model_safely(spec, options);
}

}  // namespace safetrain::infer
