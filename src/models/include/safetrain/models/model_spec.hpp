#pragma once
// What a model is, independent of its weights: built from the `model.*` config
// keys plus the data's shape. The same spec rebuilds the same module (same
// parameter names and shapes), which is what checkpoints and export rely on.
#include <cstdint>
#include <string>
#include <vector>

namespace safetrain::models {

struct ModelSpec {
  std::string type = "mlp";  // "mlp" | "transformer"
  int64_t input_features = 0;
  int64_t outputs = 0;
  std::vector<std::string> output_names;  // the data's target names; empty or size == outputs

  // mlp
  int64_t hidden = 256;
  int64_t mlp_layers = 2;
  double dropout = 0.0;  // mlp and transformer

  // transformer
  std::string token_type = "patch";  // "patch" | "feature"
  int64_t patch_size = 4;
  int64_t d_model = 512;
  int64_t num_heads = 8;
  int64_t num_layers = 4;
  int64_t dim_feedforward = 0;  // 0 = 4 * d_model
};

// Throws safetrain::InputError naming the config key, e.g.
// "model.patch_size: 30 features are not a multiple of 4".
void validate(const ModelSpec& spec);

// Number of tokens the transformer sees (features / patch, or one per feature).
int64_t token_count(const ModelSpec& spec);
// Values per token: patch_size for patch tokens, 1 for feature tokens.
int64_t token_width(const ModelSpec& spec);
// dim_feedforward with the 0 = 4 * d_model default resolved.
int64_t feedforward_dim(const ModelSpec& spec);
// Name of output column i: output_names[i], or "output_<i>" when names are absent.
std::string output_name(const ModelSpec& spec, int64_t i);
// One line for start-up logs, e.g. "transformer (patch tokens 16x4, d_model 512, 8 heads, 4 layers) 64 -> 6".
std::string describe(const ModelSpec& spec);

}  // namespace safetrain::models
