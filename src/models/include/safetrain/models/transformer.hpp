#pragma once
// The transformer family: the features cut into tokens (`model.token_type`:
// patch_size features per token, or one per feature), a Linear embedding plus a
// learned position table, a TransformerEncoder, the mean over tokens, a Linear
// head. Parameter names equal the Python reference's: "embed.*", "position",
// "encoder.layers.N.self_attn.in_proj_weight", ..., "head.weight", "head.bias".
#include <cstdint>

#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/transformercoder.h>
#include <torch/nn/pimpl.h>

#include "safetrain/models/model_registry.hpp"

namespace safetrain::models {

class TransformerImpl : public RegressionNetImpl {
 public:
  explicit TransformerImpl(const ModelSpec& spec);
  torch::Tensor forward(const torch::Tensor& x) override;

 private:
  torch::nn::Linear embed_{nullptr};
  torch::Tensor position_;
  torch::nn::TransformerEncoder encoder_{nullptr};
  torch::nn::Linear head_{nullptr};
};

TORCH_MODULE(Transformer);

ModelFamilyEntry transformer_family();

// Number of tokens the transformer sees (features / patch, or one per feature).
int64_t token_count(const ModelSpec& spec);
// Values per token: patch_size for patch tokens, 1 for feature tokens.
int64_t token_width(const ModelSpec& spec);
// dim_feedforward with the 0 = 4 * d_model default resolved.
int64_t feedforward_dim(const ModelSpec& spec);

}  // namespace safetrain::models
