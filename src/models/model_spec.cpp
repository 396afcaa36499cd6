#include "safetrain/models/model_spec.hpp"

#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/models/model_registry.hpp"

namespace safetrain::models {

void validate(const ModelSpec& spec) {
  require_positive("model.input_features (columns of the data)", spec.input_features);
  require_positive("model.outputs (targets of the data)", spec.outputs);
  if (!spec.output_names.empty() && static_cast<int64_t>(spec.output_names.size()) != spec.outputs)
    throw InputError("data.targets: " + std::to_string(spec.output_names.size()) + " names for " +
                     std::to_string(spec.outputs) + " model outputs");
  if (!(spec.dropout >= 0.0 && spec.dropout < 1.0))
    throw InputError("model.dropout: must be in [0, 1), got " + std::to_string(spec.dropout));
  family_of(spec).validate(spec);
}

void require_positive(const std::string& key, int64_t value) {
  if (value <= 0) throw InputError(key + ": must be positive, got " + std::to_string(value));
}

std::string output_name(const ModelSpec& spec, int64_t i) {
  if (i >= 0 && i < static_cast<int64_t>(spec.output_names.size())) return spec.output_names[i];
  return "output_" + std::to_string(i);
}

std::string describe(const ModelSpec& spec) {
  std::ostringstream out;
  out << name_of(spec.type) << " (" << family_of(spec).describe(spec);
  if (spec.dropout > 0) out << ", dropout " << spec.dropout;
  out << ") " << spec.input_features << " -> " << spec.outputs;
  return out.str();
}

}  // namespace safetrain::models
