#include "safetrain/models/memory_estimate.hpp"

#include <algorithm>
#include <cstdio>

#include "safetrain/common/error.hpp"
#include "safetrain/models/model_registry.hpp"
#include "safetrain/models/parameter_count.hpp"

namespace safetrain::models {
namespace {

// Autograd temporaries, allocator rounding and fragmentation are not modelled
// one by one; this margin covers them (measured peaks stay below it on CPU).
constexpr double kActivationSafetyFactor = 1.5;
constexpr int64_t kFloat32Bytes = 4;
constexpr int64_t kLargestBatchConsidered = int64_t{1} << 24;

int64_t optimizer_states_per_parameter(OptimizerKind optimizer) {
  switch (optimizer) {
    case OptimizerKind::adam:
    case OptimizerKind::adamw: return 2;  // exp_avg, exp_avg_sq
    case OptimizerKind::sgd: return 1;    // momentum buffer
  }
  return 2;  // unreachable: every OptimizerKind is handled above
}

int64_t activation_element_bytes(Precision precision) { return precision == Precision::fp32 ? 4 : 2; }

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

MemoryEstimate estimate_memory(const ModelSpec& spec, int64_t batch_size, OptimizerKind optimizer,
                               Precision precision, bool training) {
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
  const double per_sample = static_cast<double>(family_of(spec).activation_elements_per_sample(spec, training)) *
                            static_cast<double>(element_bytes) * kActivationSafetyFactor;
  e.activation_bytes = static_cast<int64_t>(per_sample * static_cast<double>(batch_size));
  e.total_bytes = e.parameter_bytes + e.gradient_bytes + e.optimizer_bytes + e.workspace_bytes + e.activation_bytes;
  return e;
}

int64_t largest_tensor_bytes(const ModelSpec& spec, int64_t batch) {
  validate(spec);
  return family_of(spec).largest_tensor_elements(spec, batch) * kFloat32Bytes;
}

int64_t inference_rows_within_training(const ModelSpec& spec, int64_t training_batch, Precision precision) {
  const int64_t training = estimate_memory(spec, training_batch, OptimizerKind::sgd, precision).activation_bytes;
  const int64_t per_row = std::max<int64_t>(
      1, estimate_memory(spec, 1, OptimizerKind::sgd, precision, /*training=*/false).activation_bytes);
  const int64_t within_activations = std::max<int64_t>(1, training / per_row);
  // The largest tensor grows with the rows once the activations outgrow the weights: bisect for the last
  // row count whose largest tensor is no larger than the training step's.
  const int64_t block = largest_tensor_bytes(spec, training_batch);
  if (largest_tensor_bytes(spec, within_activations) <= block) return within_activations;
  int64_t low = 1, high = within_activations;  // largest_tensor_bytes(high) > block
  while (high - low > 1) {
    const int64_t mid = low + (high - low) / 2;
    (largest_tensor_bytes(spec, mid) <= block ? low : high) = mid;
  }
  return low;
}

int64_t largest_batch_that_fits(const ModelSpec& spec, OptimizerKind optimizer,
                                Precision precision, int64_t available_bytes) {
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
