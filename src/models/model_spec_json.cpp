#include "safetrain/models/model_spec_json.hpp"

#include "safetrain/common/error.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/models/parse_setting.hpp"

namespace safetrain::models {
namespace {

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {
      "type",    "input_features", "outputs",   "output_names", "hidden",
      "mlp_layers", "dropout",     "token_type", "patch_size",  "d_model",
      "num_heads", "num_layers",   "dim_feedforward"};
  return keys;
}

template <typename T>
void read_if_present(const nlohmann::json& in, const char* key, T& value) {
  if (!in.contains(key)) return;
  try {
    value = in.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("model spec key '") + key + "': " + e.what());
  }
}

// Enums are stored by name, e.g. "type": "transformer"; a wrong name is an
// InputError naming the `model.*` key, with a did-you-mean.
template <typename E>
void read_enum_if_present(const nlohmann::json& in, const char* key, E& value) {
  if (!in.contains(key)) return;
  std::string name;
  read_if_present(in, key, name);
  value = parse_setting<E>(std::string("model.") + key, name);
}

}  // namespace

void to_json(nlohmann::json& out, const ModelSpec& spec) {
  out = nlohmann::json{{"type", name_of(spec.type)},
                       {"input_features", spec.input_features},
                       {"outputs", spec.outputs},
                       {"output_names", spec.output_names},
                       {"hidden", spec.hidden},
                       {"mlp_layers", spec.mlp_layers},
                       {"dropout", spec.dropout},
                       {"token_type", name_of(spec.token_type)},
                       {"patch_size", spec.patch_size},
                       {"d_model", spec.d_model},
                       {"num_heads", spec.num_heads},
                       {"num_layers", spec.num_layers},
                       {"dim_feedforward", spec.dim_feedforward}};
}

void from_json(const nlohmann::json& in, ModelSpec& spec) {
  if (!in.is_object()) throw InputError("model spec: expected a JSON object");
  for (const auto& item : in.items()) {
    bool known = false;
    for (const auto& k : known_keys()) known = known || item.key() == k;
    if (!known) {
      std::string message = "model spec: unknown key '" + item.key() + "'";
      const std::string guess = text::closest_match(item.key(), known_keys());
      if (!guess.empty()) message += "; did you mean '" + guess + "'?";
      throw InputError(message);
    }
  }
  ModelSpec result;
  read_enum_if_present(in, "type", result.type);
  read_if_present(in, "input_features", result.input_features);
  read_if_present(in, "outputs", result.outputs);
  read_if_present(in, "output_names", result.output_names);
  read_if_present(in, "hidden", result.hidden);
  read_if_present(in, "mlp_layers", result.mlp_layers);
  read_if_present(in, "dropout", result.dropout);
  read_enum_if_present(in, "token_type", result.token_type);
  read_if_present(in, "patch_size", result.patch_size);
  read_if_present(in, "d_model", result.d_model);
  read_if_present(in, "num_heads", result.num_heads);
  read_if_present(in, "num_layers", result.num_layers);
  read_if_present(in, "dim_feedforward", result.dim_feedforward);
  spec = std::move(result);
}

}  // namespace safetrain::models
