#include "safetrain/models/parameter_count.hpp"

#include <torch/torch.h>

namespace safetrain::models {
namespace {

int64_t linear(int64_t in, int64_t out) { return in * out + out; }

int64_t encoder_layer(int64_t d_model, int64_t feedforward) {
  const int64_t attention = linear(d_model, 3 * d_model) + linear(d_model, d_model);
  const int64_t feedforward_net = linear(d_model, feedforward) + linear(feedforward, d_model);
  const int64_t two_layer_norms = 2 * (2 * d_model);
  return attention + feedforward_net + two_layer_norms;
}

}  // namespace

int64_t expected_parameter_count(const ModelSpec& spec) {
  if (spec.type == "mlp") {
    return linear(spec.input_features, spec.hidden) +
           (spec.mlp_layers - 1) * linear(spec.hidden, spec.hidden) +
           linear(spec.hidden, spec.outputs);
  }
  const int64_t embed = linear(token_width(spec), spec.d_model);
  const int64_t position = token_count(spec) * spec.d_model;
  const int64_t encoder = spec.num_layers * encoder_layer(spec.d_model, feedforward_dim(spec));
  return embed + position + encoder + linear(spec.d_model, spec.outputs);
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters(/*recurse=*/true)) total += p.numel();
  return total;
}

}  // namespace safetrain::models
