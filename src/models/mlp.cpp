#include "safetrain/models/mlp.hpp"

#include <algorithm>

#include <torch/torch.h>

namespace safetrain::models {

MlpImpl::MlpImpl(const ModelSpec& spec) : RegressionNetImpl(spec) {
  // Registered under the reference nn.Sequential's indices (Linear at even
  // positions, parameter-free ReLU between), so export needs no renaming.
  int64_t in = spec.input_features;
  for (int64_t i = 0; i < spec.mlp_layers; ++i) {
    linears_.push_back(register_module(std::to_string(2 * i), torch::nn::Linear(in, spec.hidden)));
    in = spec.hidden;
  }
  linears_.push_back(register_module(std::to_string(2 * spec.mlp_layers), torch::nn::Linear(in, spec.outputs)));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  check_input(x);
  const double dropout = spec().dropout;
  torch::Tensor h = x;
  const size_t last = linears_.size() - 1;
  for (size_t i = 0; i < last; ++i) {
    h = torch::relu(linears_[i]->forward(h));
    // Dropout has no parameters, so it is applied functionally and leaves the
    // reference's layer indices untouched.
    if (dropout > 0) h = torch::dropout(h, dropout, is_training());
  }
  return linears_[last]->forward(h);
}

namespace {

void validate_mlp(const ModelSpec& spec) {
  require_positive("model.hidden", spec.hidden);
  require_positive("model.mlp_layers", spec.mlp_layers);
}

RegressionModel build_mlp(const ModelSpec& spec) { return Mlp(spec).ptr(); }

int64_t mlp_parameters(const ModelSpec& spec) {
  return linear_parameter_count(spec.input_features, spec.hidden) +
         (spec.mlp_layers - 1) * linear_parameter_count(spec.hidden, spec.hidden) +
         linear_parameter_count(spec.hidden, spec.outputs);
}

int64_t mlp_activations(const ModelSpec& spec, bool training) {
  if (!training) return 2 * std::max(spec.input_features, spec.hidden) + spec.outputs;
  // per hidden layer: linear output, relu output, dropout mask, and as many gradients of them while the
  // backward pass runs (measured: bench/memory_footprint.py --check-estimate, MLP at batch 64 to 1024)
  return spec.input_features + 2 * spec.mlp_layers * spec.hidden * (spec.dropout > 0 ? 3 : 2) + 3 * spec.outputs;
}

int64_t mlp_largest_tensor(const ModelSpec& spec, int64_t batch) {
  const int64_t hidden_to_hidden = spec.mlp_layers > 1 ? spec.hidden * spec.hidden : 0;
  const int64_t weights = std::max({spec.input_features * spec.hidden, hidden_to_hidden, spec.hidden * spec.outputs});
  return std::max(weights, batch * std::max(spec.input_features, spec.hidden));
}

std::string describe_mlp(const ModelSpec& spec) {
  return std::to_string(spec.mlp_layers) + " hidden layers of " + std::to_string(spec.hidden);
}

}  // namespace

ModelFamilyEntry mlp_family() {
  return {ModelFamily::mlp, validate_mlp, build_mlp, mlp_parameters, mlp_activations, mlp_largest_tensor, describe_mlp};
}

}  // namespace safetrain::models
