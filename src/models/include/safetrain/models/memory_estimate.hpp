#pragma once
// What a run will hold, estimated from the spec alone, before anything is
// allocated: parameters, gradients, optimizer state and the activations of one
// batch. Deliberately a little pessimistic (see kActivationSafetyFactor).
#include <cstdint>
#include <string>

#include "safetrain/models/model_spec.hpp"
#include "safetrain/models/run_kinds.hpp"

namespace safetrain::models {

struct MemoryEstimate {
  int64_t parameter_bytes = 0;
  int64_t gradient_bytes = 0;
  int64_t optimizer_bytes = 0;
  int64_t activation_bytes = 0;  // for `batch_size` samples (the part that scales with the batch)
  int64_t workspace_bytes = 0;   // per-step copies that do not scale with the batch (fp16 weight casts)
  int64_t total_bytes = 0;
  int64_t batch_size = 0;
  int64_t parameters = 0;

  // e.g. "~210.3 MB (parameters 50.2 MB, gradients 50.2 MB, optimizer 100.4 MB, activations 9.5 MB for batch 4)"
  std::string summary() const;
};

// sgd is counted with a momentum buffer (the config's default). The family's
// activation count comes from the model registry. training=false: inference
// only (no gradients, optimizer state or saved activations).
MemoryEstimate estimate_memory(const ModelSpec& spec, int64_t batch_size, OptimizerKind optimizer,
                               Precision precision, bool training = true);

// The largest batch whose estimate fits in `available_bytes`; 0 when even a batch of 1 does not.
int64_t largest_batch_that_fits(const ModelSpec& spec, OptimizerKind optimizer, Precision precision,
                                int64_t available_bytes);

// Bytes of the largest single tensor of a training step or a forward pass of `batch` rows (fp32).
int64_t largest_tensor_bytes(const ModelSpec& spec, int64_t batch);

// The most rows one inference pass (no gradients) may take so that its activations stay within those
// of a training step of `training_batch` rows, and no tensor of it is larger than the largest of that
// step (a larger block raises glibc's mmap and trim thresholds, and its heap then keeps up to twice that
// block per arena: measured, importance at 161 transformer rows crept 100 MB above the plots). Evaluation-time
// passes (permutation importance) then never raise the run's peak above training's. At least 1.
int64_t inference_rows_within_training(const ModelSpec& spec, int64_t training_batch, Precision precision);

// Bytes as "123.4 MB".
std::string format_mb(int64_t bytes);

}  // namespace safetrain::models
