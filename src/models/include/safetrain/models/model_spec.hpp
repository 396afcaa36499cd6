#pragma once
// What a model is, independent of its weights: ModelSpec (model_options.hpp)
// is the `model.*` options plus the data's shape. The same spec rebuilds the
// same module (same parameter names and shapes), which is what checkpoints and
// export rely on.
#include <cstdint>
#include <string>

#include "safetrain/models/model_options.hpp"

namespace safetrain::models {

// Throws safetrain::InputError naming the config key, e.g.
// "model.patch_size: 30 features are not a multiple of 4". Checks the shape
// and dropout here and the family's own settings through the registry.
void validate(const ModelSpec& spec);
// InputError "<key>: must be positive, got <value>" (shared by the family validators).
void require_positive(const std::string& key, int64_t value);

// Name of output column i: output_names[i], or "output_<i>" when names are absent.
std::string output_name(const ModelSpec& spec, int64_t i);
// One line for start-up logs, e.g. "transformer (patch tokens 16x4, d_model 512, 8 heads, 4 layers) 64 -> 6".
std::string describe(const ModelSpec& spec);

}  // namespace safetrain::models
