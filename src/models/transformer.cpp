#include "safetrain/models/transformer.hpp"

#include <algorithm>

#include <torch/torch.h>

#include "safetrain/common/error.hpp"

namespace safetrain::models {

int64_t token_width(const ModelSpec& spec) { return spec.token_type == TokenType::feature ? 1 : spec.patch_size; }

int64_t token_count(const ModelSpec& spec) {
  const int64_t width = token_width(spec);
  return width > 0 ? spec.input_features / width : 0;
}

int64_t feedforward_dim(const ModelSpec& spec) {
  return spec.dim_feedforward > 0 ? spec.dim_feedforward : 4 * spec.d_model;
}

TransformerImpl::TransformerImpl(const ModelSpec& spec) : RegressionNetImpl(spec) {
  embed_ = register_module("embed", torch::nn::Linear(token_width(spec), spec.d_model));
  position_ = register_parameter("position", torch::zeros({token_count(spec), spec.d_model}));
  auto layer = torch::nn::TransformerEncoderLayerOptions(spec.d_model, spec.num_heads)
                   .dim_feedforward(feedforward_dim(spec))
                   .dropout(spec.dropout)
                   .activation(torch::kReLU);
  encoder_ = register_module(
      "encoder", torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(layer, spec.num_layers)));
  head_ = register_module("head", torch::nn::Linear(spec.d_model, spec.outputs));
}

torch::Tensor TransformerImpl::forward(const torch::Tensor& x) {
  check_input(x);
  const auto tokens = embed_->forward(x.reshape({x.size(0), token_count(spec()), token_width(spec())})) + position_;
  // LibTorch's encoder takes [tokens, batch, d_model] (no batch_first option).
  const auto encoded = encoder_->forward(tokens.transpose(0, 1));
  return head_->forward(encoded.mean(/*dim=*/0));
}

namespace {

void validate_transformer(const ModelSpec& spec) {
  require_positive("model.d_model", spec.d_model);
  require_positive("model.num_heads", spec.num_heads);
  require_positive("model.num_layers", spec.num_layers);
  if (spec.dim_feedforward < 0)
    throw InputError("model.dim_feedforward: must be 0 (= 4 * d_model) or positive, got " +
                     std::to_string(spec.dim_feedforward));
  if (const std::string heads = heads_width_problem(spec); !heads.empty()) throw InputError(heads);
  if (spec.token_type == TokenType::patch) {
    require_positive("model.patch_size", spec.patch_size);
    if (spec.input_features % spec.patch_size != 0)
      throw InputError("model.patch_size: " + std::to_string(spec.input_features) +
                       " features are not a multiple of " + std::to_string(spec.patch_size) +
                       " (choose a divisor of the feature count, or model.token_type: feature)");
  }
}

RegressionModel build_transformer(const ModelSpec& spec) { return Transformer(spec).ptr(); }

int64_t encoder_layer_parameters(int64_t d_model, int64_t feedforward) {
  const int64_t attention = linear_parameter_count(d_model, 3 * d_model) + linear_parameter_count(d_model, d_model);
  const int64_t feedforward_net =
      linear_parameter_count(d_model, feedforward) + linear_parameter_count(feedforward, d_model);
  const int64_t two_layer_norms = 2 * (2 * d_model);
  return attention + feedforward_net + two_layer_norms;
}

int64_t transformer_parameters(const ModelSpec& spec) {
  const int64_t embed = linear_parameter_count(token_width(spec), spec.d_model);
  const int64_t position = token_count(spec) * spec.d_model;
  const int64_t encoder = spec.num_layers * encoder_layer_parameters(spec.d_model, feedforward_dim(spec));
  return embed + position + encoder + linear_parameter_count(spec.d_model, spec.outputs);
}

int64_t transformer_activations(const ModelSpec& spec, bool training) {
  const bool dropout = spec.dropout > 0;
  const int64_t s = token_count(spec), e = spec.d_model, ff = feedforward_dim(spec), h = spec.num_heads;
  const int64_t attention_maps = h * s * s;
  if (!training) return 2 * std::max({s * ff, attention_maps, s * e}) + 2 * s * e;
  // per layer: input, q/k/v, scaled q, attention output, out_proj, residuals and
  // norms (~12 d_model-wide tensors); scores + softmax (+ dropout mask); linear1,
  // relu (+ dropout mask) of the feed-forward width.
  const int64_t per_layer = 12 * s * e + (dropout ? 3 : 2) * attention_maps + (dropout ? 3 : 2) * s * ff;
  const int64_t embedding = s * token_width(spec) + 2 * s * e;
  return embedding + spec.num_layers * per_layer + 2 * e + 3 * spec.outputs;
}

int64_t transformer_largest_tensor(const ModelSpec& spec, int64_t batch) {
  const int64_t s = token_count(spec), e = spec.d_model, ff = feedforward_dim(spec);
  // in_proj (3e x e), linear1/linear2 (ff x e), the positions (s x e); per row: q/k/v together, the
  // feed-forward width, the attention maps.
  const int64_t weights = std::max({3 * e * e, ff * e, s * e, token_width(spec) * e, e * spec.outputs});
  return std::max(weights, batch * std::max({s * 3 * e, s * ff, spec.num_heads * s * s}));
}

std::string describe_transformer(const ModelSpec& spec) {
  return std::string(name_of(spec.token_type)) + " tokens " + std::to_string(token_count(spec)) + "x" +
         std::to_string(token_width(spec)) + ", d_model " + std::to_string(spec.d_model) + ", " +
         std::to_string(spec.num_heads) + " heads, " + std::to_string(spec.num_layers) + " layers, feed-forward " +
         std::to_string(feedforward_dim(spec));
}

}  // namespace

ModelFamilyEntry transformer_family() {
  return {ModelFamily::transformer,   validate_transformer,    build_transformer,
          transformer_parameters,     transformer_activations, transformer_largest_tensor,
          describe_transformer};
}

}  // namespace safetrain::models
