#include "safetrain/models/model_registry.hpp"

#include "safetrain/common/error.hpp"
#include "safetrain/models/mlp.hpp"
#include "safetrain/models/transformer.hpp"

namespace safetrain::models {

const ModelFamilyEntry& family_entry(ModelFamily family) {
  // One line per family (a function-local table: no static initialisation order to worry about).
  static const ModelFamilyEntry families[] = {
      mlp_family(),
      transformer_family(),
  };
  for (const auto& entry : families)
    if (entry.family == family) return entry;
  // Only reachable when a ModelFamily value was added without its registry line.
  throw InputError(std::string("model.type: '") + name_of(family) + "' has no entry in the model registry");
}

}  // namespace safetrain::models
