#include "safetrain/models/memory_estimate.hpp"

#include <algorithm>
#include <cstdio>

#include "safetrain/common/error.hpp"
#include "safetrain/models/parameter_count.hpp"

namespace safetrain::models {
namespace {

// Autograd temporaries, allocator rounding and fragmentation are not modelled
// one by one; this margin covers them (measured peaks stay below it on CPU).
constexpr double kActivationSafetyFactor = 1.5;
constexpr int64_t kFloat32Bytes = 4;
constexpr int64_t kLargestBatchConsidered = int64_t{1} << 24;

int64_t optimizer_states_per_parameter(const std::string& optimizer) {
  if (optimizer == "adam" || optimizer == "adamw") return 2;  // exp_avg, exp_avg_sq
  if (optimizer == "sgd") return 1;                           // momentum buffer
  throw InputError("training.optimizer: unknown value '" + optimizer + "' (expected adam, adamw or sgd)");
}

int64_t activation_element_bytes(const std::string& precision) {
  if (precision == "32") return 4;
  if (precision == "16" || precision == "bf16") return 2;
  throw InputError("training.precision: unknown value '" + precision + "' (expected 32, 16 or bf16)");
}

// Elements kept per sample for the backward pass (training) or alive at the
// peak of a forward pass (inference).
int64_t activation_elements_per_sample(const ModelSpec& spec, bool training) {
  const bool dropout = spec.dropout > 0;
  if (spec.type == "mlp") {
    if (!training) return 2 * std::max(spec.input_features, spec.hidden) + spec.outputs;
    // per hidden layer: linear output, relu output, dropout mask
    return spec.input_features + spec.mlp_layers * spec.hidden * (dropout ? 3 : 2) + 3 * spec.outputs;
  }
  const int64_t s = token_count(spec), e = spec.d_model, ff = feedforward_dim(spec), h = spec.num_heads;
  const int64_t attention_maps = h * s * s;
  if (!training) return 2 * std::max({s * ff, attention_maps, s * e}) + 2 * s * e;
  // per layer: input, q/k/v, scaled q, attention output, out_proj, residuals and
  // norms (~12 d_model-wide tensors); scores + softmax (+ dropout mask); linear1,
  // relu (+ dropout mask) of the feed-forward width.
  const int64_t per_layer = 12 * s * e + (dropout ? 3 : 2) * attention_maps + (dropout ? 3 : 2) * s * ff;
  const int64_t embedding = s * token_width(spec) + 2 * s * e;
  return embedding + spec.num_layers * per_layer + 2 * e + 3 * spec.outputs;
}

}  // namespace

std::string format_mb(int64_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f MB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buffer;
}

std::string MemoryEstimate::summary() const {
  return "~" + format_mb(total_bytes) + " (" + std::to_string(parameters) + " parameters " +
         format_mb(parameter_bytes) + ", gradients " + format_mb(gradient_bytes) + ", optimizer " +
         format_mb(optimizer_bytes) + ", activations " + format_mb(activation_bytes + workspace_bytes) +
         " for batch " + std::to_string(batch_size) + ")";
}

MemoryEstimate estimate_memory(const ModelSpec& spec, int64_t batch_size, const std::string& optimizer,
                               const std::string& precision, bool training) {
  validate(spec);
  if (batch_size <= 0)
    throw InputError("training.batch_size: must be positive, got " + std::to_string(batch_size));
  const int64_t element_bytes = activation_element_bytes(precision);
  const int64_t states = optimizer_states_per_parameter(optimizer);

  MemoryEstimate e;
  e.batch_size = batch_size;
  e.parameters = expected_parameter_count(spec);
  // Master weights stay fp32 under mixed precision; autocast adds a half copy per step.
  e.parameter_bytes = e.parameters * kFloat32Bytes;
  e.gradient_bytes = training ? e.parameters * kFloat32Bytes : 0;
  e.optimizer_bytes = training ? states * e.parameters * kFloat32Bytes : 0;
  e.workspace_bytes = element_bytes < kFloat32Bytes ? e.parameters * element_bytes : 0;
  const double per_sample = static_cast<double>(activation_elements_per_sample(spec, training)) *
                            static_cast<double>(element_bytes) * kActivationSafetyFactor;
  e.activation_bytes = static_cast<int64_t>(per_sample * static_cast<double>(batch_size));
  e.total_bytes = e.parameter_bytes + e.gradient_bytes + e.optimizer_bytes + e.workspace_bytes + e.activation_bytes;
  return e;
}

int64_t largest_batch_that_fits(const ModelSpec& spec, const std::string& optimizer,
                                const std::string& precision, int64_t available_bytes) {
  const auto one = estimate_memory(spec, 1, optimizer, precision);
  if (one.total_bytes > available_bytes) return 0;
  const int64_t per_sample = std::max<int64_t>(1, estimate_memory(spec, 2, optimizer, precision).total_bytes -
                                                      one.total_bytes);
  const int64_t fixed = one.total_bytes - per_sample;
  int64_t batch = std::clamp<int64_t>((available_bytes - fixed) / per_sample, 1, kLargestBatchConsidered);
  // The estimate is linear up to rounding; step down until it really fits.
  while (batch > 1 && estimate_memory(spec, batch, optimizer, precision).total_bytes > available_bytes) --batch;
  return batch;
}

}  // namespace safetrain::models
