#pragma once
// The `model.*` settings: the only place their defaults live. The config
// schema (src/config) binds each key to a member here; ModelSpec adds the
// data's shape. LibTorch-free, so the config library can hold it.
#include <cstdint>
#include <string>
#include <vector>

#include "safetrain/common/enum_names.hpp"

namespace safetrain::models {

enum class ModelFamily { mlp, transformer };
inline constexpr EnumName<ModelFamily> kModelFamilyNames[] = {{"mlp", ModelFamily::mlp},
                                                              {"transformer", ModelFamily::transformer}};
constexpr const auto& enum_names(ModelFamily) { return kModelFamilyNames; }

// Transformer tokens: patch_size features per token, or one token per feature.
enum class TokenType { patch, feature };
inline constexpr EnumName<TokenType> kTokenTypeNames[] = {{"patch", TokenType::patch}, {"feature", TokenType::feature}};
constexpr const auto& enum_names(TokenType) { return kTokenTypeNames; }

// Built-in defaults fit a tabular user (a CSV of a few hundred to a few million rows): an MLP 2x256. The seed's
// GPU transformer profile is spelled out in configs/safe_training.yaml.
struct ModelOptions {
  ModelFamily type = ModelFamily::mlp;
  // mlp
  int64_t hidden = 256;
  int64_t mlp_layers = 2;
  double dropout = 0.1;  // mlp and transformer
  // transformer
  int64_t d_model = 512;
  int64_t num_heads = 8;
  int64_t num_layers = 4;
  int64_t dim_feedforward = 0;  // 0 = 4 * d_model
  TokenType token_type = TokenType::patch;
  int64_t patch_size = 4;
};

// What a model is, independent of its weights: the options plus the data's
// shape. The same spec rebuilds the same module (same parameter names and
// shapes), which is what checkpoints and export rely on.
struct ModelSpec : ModelOptions {
  int64_t input_features = 0;
  int64_t outputs = 0;
  std::vector<std::string> output_names;  // the data's target names; empty or size == outputs
};

}  // namespace safetrain::models
