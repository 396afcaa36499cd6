#pragma once
// ModelSpec <-> JSON, so a checkpoint can store the spec it was built from and
// predict/export can rebuild the same module. Unknown or mistyped keys are an
// InputError naming the key.
#include <nlohmann/json.hpp>

#include "safetrain/models/model_spec.hpp"

namespace safetrain::models {

void to_json(nlohmann::json& out, const ModelSpec& spec);
void from_json(const nlohmann::json& in, ModelSpec& spec);

}  // namespace safetrain::models
