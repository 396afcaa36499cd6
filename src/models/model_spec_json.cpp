#include "safetrain/models/model_spec_json.hpp"

#include "safetrain/common/field_list.hpp"

namespace safetrain::models {

void to_json(nlohmann::json& out, const ModelSpec& spec) { out = fields::to_json(spec); }

// Absent keys keep ModelSpec's defaults; enums are stored by name ("type": "transformer") and a wrong name is an
// InputError naming the `model.*` key, with a did-you-mean.
void from_json(const nlohmann::json& in, ModelSpec& spec) {
  ModelSpec result;
  fields::from_json(in, result, "model spec", "model.");
  spec = std::move(result);
}

}  // namespace safetrain::models
