#pragma once
// The `model.*` settings: the only place their defaults live. The config
// schema (src/config) binds each key to a member here; ModelSpec adds the
// data's shape. LibTorch-free, so the config library can hold it.
#include <cstdint>
#include <string>
#include <vector>

#include "safetrain/common/enum_names.hpp"
#include "safetrain/common/field_list.hpp"

namespace safetrain::models {

enum class ModelFamily { mlp, transformer };
inline constexpr EnumName<ModelFamily> kModelFamilyNames[] = {{"mlp", ModelFamily::mlp},
                                                              {"transformer", ModelFamily::transformer}};
constexpr const auto& enum_names(ModelFamily) { return kModelFamilyNames; }

// Transformer tokens: patch_size features per token, or one token per feature.
enum class TokenType { patch, feature };
inline constexpr EnumName<TokenType> kTokenTypeNames[] = {{"patch", TokenType::patch}, {"feature", TokenType::feature}};
constexpr const auto& enum_names(TokenType) { return kTokenTypeNames; }

// Built-in defaults fit a tabular user (a CSV of a few hundred to a few million rows): an MLP 3x256. Three hidden
// layers rather than two: paired over 10 seeds on bench/quality_vs_sklearn.py's small tables, wine alcohol and
// proline gained ~0.03 R² each and no target lost more than 0.005 (docs/BENCHMARKS.md). The seed's GPU
// transformer profile is spelled out in configs/safe_training.yaml.
struct ModelOptions {
  ModelFamily type = ModelFamily::mlp;
  // mlp
  int64_t hidden = 256;
  int64_t mlp_layers = 3;
  double dropout = 0.1;  // mlp and transformer
  // transformer
  int64_t d_model = 512;
  int64_t num_heads = 8;
  int64_t num_layers = 4;
  int64_t dim_feedforward = 0;  // 0 = 4 * d_model
  TokenType token_type = TokenType::patch;
  int64_t patch_size = 4;
};

// The one check that attention heads split the token width evenly (model.num_heads divides model.d_model), made
// when a config is loaded (src/config) and when a transformer is validated (a checkpoint's spec). Empty when
// they fit (or num_heads is not positive: the range check reports that), else the message naming the key.
inline std::string heads_width_problem(const ModelOptions& o) {
  if (o.num_heads <= 0 || o.d_model % o.num_heads == 0) return "";
  return "model.num_heads: must divide model.d_model (" + std::to_string(o.d_model) + " % " +
         std::to_string(o.num_heads) + " != 0)";
}

// What a model is, independent of its weights: the options plus the data's
// shape. The same spec rebuilds the same module (same parameter names and
// shapes), which is what checkpoints and export rely on.
struct ModelSpec : ModelOptions {
  int64_t input_features = 0;
  int64_t outputs = 0;
  std::vector<std::string> output_names;  // the data's target names; empty or size == outputs
};

// Each member once: a checkpoint's model spec JSON (model_spec_json.cpp) is written and read from these lists;
// tests/models checks every member is listed. The JSON names are the `model.*` keys.
template <class Self, class Visit>
fields::ListOf<Self, ModelOptions> for_each_field(Self& o, Visit&& visit) {
  visit("type", o.type, fields::setting);
  visit("hidden", o.hidden, fields::setting);
  visit("mlp_layers", o.mlp_layers, fields::setting);
  visit("dropout", o.dropout, fields::setting);
  visit("d_model", o.d_model, fields::setting);
  visit("num_heads", o.num_heads, fields::setting);
  visit("num_layers", o.num_layers, fields::setting);
  visit("dim_feedforward", o.dim_feedforward, fields::setting);
  visit("token_type", o.token_type, fields::setting);
  visit("patch_size", o.patch_size, fields::setting);
}

// The options' list, then the data's shape.
template <class Self, class Visit>
fields::ListOf<Self, ModelSpec> for_each_field(Self& spec, Visit&& visit) {
  using Options = std::conditional_t<std::is_const_v<Self>, const ModelOptions, ModelOptions>;
  for_each_field(static_cast<Options&>(spec), visit);
  visit("input_features", spec.input_features, fields::setting);
  visit("outputs", spec.outputs, fields::setting);
  visit("output_names", spec.output_names, fields::setting);
}

}  // namespace safetrain::models
