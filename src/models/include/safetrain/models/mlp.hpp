#pragma once
// The mlp family: `model.mlp_layers` hidden Linear layers of `model.hidden`
// units with ReLU (and dropout while training), then a Linear head. Parameter
// names follow the Python reference's nn.Sequential: "0.weight", "0.bias",
// "2.weight", ... (Linear layers at even indices, ReLU in between).
#include <vector>

#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "safetrain/models/model_registry.hpp"

namespace safetrain::models {

class MlpImpl : public RegressionNetImpl {
 public:
  explicit MlpImpl(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  std::vector<torch::nn::Linear> linears_;
};

TORCH_MODULE(Mlp);

ModelFamilyEntry mlp_family();

}  // namespace safetrain::models
