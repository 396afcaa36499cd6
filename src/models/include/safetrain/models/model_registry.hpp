#pragma once
// The one table of model families. Each family is a file (mlp.cpp,
// transformer.cpp) that fills one ModelFamilyEntry; model_registry.cpp lists
// them. Adding a family: its enum value and name in model_options.hpp, its
// file, and one line in model_registry.cpp.
#include <cstdint>
#include <string>

#include "safetrain/models/regression_model.hpp"

namespace safetrain::models {

struct ModelFamilyEntry {
  ModelFamily family;
  // InputError naming the `model.*` key of a bad family setting (the shape and
  // dropout are checked by models::validate before).
  void (*validate)(const ModelSpec& spec);
  // The module, constructed on the CPU (build_model adds NoGradGuard and the log line).
  RegressionModel (*build)(const ModelSpec& spec);
  // Closed-form parameter count, equal to the built module's and the Python reference's.
  int64_t (*parameter_count)(const ModelSpec& spec);
  // Activation elements per sample: kept for the backward pass (training) or
  // alive at the peak of a forward pass (inference). memory_estimate.cpp turns
  // them into bytes for a batch and a precision.
  int64_t (*activation_elements_per_sample)(const ModelSpec& spec, bool training);
  // Elements of the largest single tensor a training step or a forward pass of `batch` rows allocates: the
  // largest weight matrix (its gradient and the optimizer's temporaries are as large) or the widest activation.
  // glibc's allocator sizes its thresholds from the largest block freed (memory_forecast.cpp).
  int64_t (*largest_tensor_elements)(const ModelSpec& spec, int64_t batch);
  // The family's part of describe(), e.g. "2 hidden layers of 256".
  std::string (*describe)(const ModelSpec& spec);
};

// The entry of a family; every ModelFamily value has one (a test checks).
const ModelFamilyEntry& family_entry(ModelFamily family);
inline const ModelFamilyEntry& family_of(const ModelSpec& spec) { return family_entry(spec.type); }

// in * out weights + out biases.
constexpr int64_t linear_parameter_count(int64_t in, int64_t out) { return in * out + out; }

}  // namespace safetrain::models
