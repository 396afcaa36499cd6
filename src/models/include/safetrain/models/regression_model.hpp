#pragma once
// One module type for both model families, so the trainer, checkpoints and
// export treat them alike. Parameter names equal the Python reference's
// state_dict keys (shared/bench/torch_reference.py):
//   mlp:          "0.weight", "0.bias", "2.weight", ... (Linear layers at even
//                 indices of the reference's nn.Sequential; ReLU in between)
//   transformer:  "embed.*", "position", "encoder.layers.N.self_attn.in_proj_weight",
//                 ..., "head.weight", "head.bias"
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/transformercoder.h>
#include <torch/nn/pimpl.h>

#include "safetrain/models/model_spec.hpp"

namespace safetrain::models {

class RegressionModelImpl : public torch::nn::Module {
 public:
  // Validates `spec` (InputError naming the config key) and builds the layers.
  explicit RegressionModelImpl(const ModelSpec& spec);

  // [batch, input_features] -> [batch, outputs]
  torch::Tensor forward(const torch::Tensor& x);

  const ModelSpec& spec() const { return spec_; }

 private:
  torch::Tensor forward_mlp(const torch::Tensor& x);
  torch::Tensor forward_transformer(const torch::Tensor& x);

  ModelSpec spec_;
  // mlp
  std::vector<torch::nn::Linear> mlp_linears_;
  // transformer
  torch::nn::Linear embed_{nullptr};
  torch::Tensor position_;
  torch::nn::TransformerEncoder encoder_{nullptr};
  torch::nn::Linear head_{nullptr};
};

TORCH_MODULE(RegressionModel);

// Builds on the CPU under NoGradGuard (initialisation records no graph); the
// caller moves it to the device. Parameters require grad. Logs the model and
// its parameter count.
RegressionModel build_model(const ModelSpec& spec);

}  // namespace safetrain::models
