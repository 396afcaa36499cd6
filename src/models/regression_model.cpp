#include "safetrain/models/regression_model.hpp"

#include <torch/torch.h>

#include "safetrain/common/log.hpp"
#include "safetrain/models/parameter_count.hpp"

namespace safetrain::models {

RegressionModelImpl::RegressionModelImpl(const ModelSpec& spec) : spec_(spec) {
  validate(spec_);
  if (spec_.type == "mlp") {
    // Registered under the reference nn.Sequential's indices (Linear at even
    // positions, parameter-free ReLU between), so export needs no renaming.
    int64_t in = spec_.input_features;
    for (int64_t i = 0; i < spec_.mlp_layers; ++i) {
      mlp_linears_.push_back(register_module(std::to_string(2 * i), torch::nn::Linear(in, spec_.hidden)));
      in = spec_.hidden;
    }
    mlp_linears_.push_back(register_module(std::to_string(2 * spec_.mlp_layers),
                                           torch::nn::Linear(in, spec_.outputs)));
    return;
  }
  embed_ = register_module("embed", torch::nn::Linear(token_width(spec_), spec_.d_model));
  position_ = register_parameter("position", torch::zeros({token_count(spec_), spec_.d_model}));
  auto layer = torch::nn::TransformerEncoderLayerOptions(spec_.d_model, spec_.num_heads)
                   .dim_feedforward(feedforward_dim(spec_))
                   .dropout(spec_.dropout)
                   .activation(torch::kReLU);
  encoder_ = register_module(
      "encoder", torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(layer, spec_.num_layers)));
  head_ = register_module("head", torch::nn::Linear(spec_.d_model, spec_.outputs));
}

torch::Tensor RegressionModelImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == spec_.input_features, "model expects [batch, ",
              spec_.input_features, "] inputs, got ", x.sizes());
  return spec_.type == "mlp" ? forward_mlp(x) : forward_transformer(x);
}

torch::Tensor RegressionModelImpl::forward_mlp(const torch::Tensor& x) {
  torch::Tensor h = x;
  const size_t last = mlp_linears_.size() - 1;
  for (size_t i = 0; i < last; ++i) {
    h = torch::relu(mlp_linears_[i]->forward(h));
    // Dropout has no parameters, so it is applied functionally and leaves the
    // reference's layer indices untouched.
    if (spec_.dropout > 0) h = torch::dropout(h, spec_.dropout, is_training());
  }
  return mlp_linears_[last]->forward(h);
}

torch::Tensor RegressionModelImpl::forward_transformer(const torch::Tensor& x) {
  const auto tokens = embed_->forward(x.reshape({x.size(0), token_count(spec_), token_width(spec_)})) + position_;
  // LibTorch's encoder takes [tokens, batch, d_model] (no batch_first option).
  const auto encoded = encoder_->forward(tokens.transpose(0, 1));
  return head_->forward(encoded.mean(/*dim=*/0));
}

RegressionModel build_model(const ModelSpec& spec) {
  torch::NoGradGuard no_grad;
  RegressionModel model(spec);
  log::info("model: ", describe(spec), ", ", count_parameters(*model), " parameters");
  return model;
}

}  // namespace safetrain::models
