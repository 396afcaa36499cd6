#include "safetrain/models/model_spec.hpp"

#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/text.hpp"

namespace safetrain::models {
namespace {

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw InputError(key + ": " + what);
}

void require_positive(const std::string& key, int64_t value) {
  if (value <= 0) fail(key, "must be positive, got " + std::to_string(value));
}

void require_one_of(const std::string& key, const std::string& value,
                    const std::vector<std::string>& allowed) {
  for (const auto& a : allowed)
    if (value == a) return;
  std::string message = "unknown value '" + value + "' (expected one of:";
  for (const auto& a : allowed) message += " " + a;
  message += ")";
  const std::string guess = text::closest_match(value, allowed);
  if (!guess.empty()) message += "; did you mean '" + guess + "'?";
  fail(key, message);
}

void validate_transformer(const ModelSpec& spec) {
  require_one_of("model.token_type", spec.token_type, {"patch", "feature"});
  require_positive("model.d_model", spec.d_model);
  require_positive("model.num_heads", spec.num_heads);
  require_positive("model.num_layers", spec.num_layers);
  if (spec.dim_feedforward < 0)
    fail("model.dim_feedforward", "must be 0 (= 4 * d_model) or positive, got " +
                                      std::to_string(spec.dim_feedforward));
  if (spec.d_model % spec.num_heads != 0)
    fail("model.num_heads", "d_model " + std::to_string(spec.d_model) + " is not divisible by " +
                                std::to_string(spec.num_heads) + " heads");
  if (spec.token_type == "patch") {
    require_positive("model.patch_size", spec.patch_size);
    if (spec.input_features % spec.patch_size != 0)
      fail("model.patch_size", std::to_string(spec.input_features) +
                                   " features are not a multiple of " +
                                   std::to_string(spec.patch_size) +
                                   " (choose a divisor of the feature count, or model.token_type: feature)");
  }
}

}  // namespace

void validate(const ModelSpec& spec) {
  require_one_of("model.type", spec.type, {"mlp", "transformer"});
  require_positive("model.input_features (columns of the data)", spec.input_features);
  require_positive("model.outputs (targets of the data)", spec.outputs);
  if (!spec.output_names.empty() &&
      static_cast<int64_t>(spec.output_names.size()) != spec.outputs)
    fail("data.targets", std::to_string(spec.output_names.size()) + " names for " +
                             std::to_string(spec.outputs) + " model outputs");
  if (!(spec.dropout >= 0.0 && spec.dropout < 1.0))
    fail("model.dropout", "must be in [0, 1), got " + std::to_string(spec.dropout));
  if (spec.type == "mlp") {
    require_positive("model.hidden", spec.hidden);
    require_positive("model.mlp_layers", spec.mlp_layers);
  } else {
    validate_transformer(spec);
  }
}

int64_t token_width(const ModelSpec& spec) {
  return spec.token_type == "feature" ? 1 : spec.patch_size;
}

int64_t token_count(const ModelSpec& spec) {
  const int64_t width = token_width(spec);
  return width > 0 ? spec.input_features / width : 0;
}

int64_t feedforward_dim(const ModelSpec& spec) {
  return spec.dim_feedforward > 0 ? spec.dim_feedforward : 4 * spec.d_model;
}

std::string output_name(const ModelSpec& spec, int64_t i) {
  if (i >= 0 && i < static_cast<int64_t>(spec.output_names.size())) return spec.output_names[i];
  return "output_" + std::to_string(i);
}

std::string describe(const ModelSpec& spec) {
  std::ostringstream out;
  if (spec.type == "mlp") {
    out << "mlp (" << spec.mlp_layers << " hidden layers of " << spec.hidden;
  } else {
    out << "transformer (" << spec.token_type << " tokens " << token_count(spec) << "x"
        << token_width(spec) << ", d_model " << spec.d_model << ", " << spec.num_heads
        << " heads, " << spec.num_layers << " layers, feed-forward " << feedforward_dim(spec);
  }
  if (spec.dropout > 0) out << ", dropout " << spec.dropout;
  out << ") " << spec.input_features << " -> " << spec.outputs;
  return out.str();
}

}  // namespace safetrain::models
