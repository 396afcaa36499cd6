#pragma once
// The module every model family derives from, so the trainer, checkpoints and
// export treat all families alike. Each family (mlp.hpp, transformer.hpp) is a
// TORCH_MODULE of its own whose parameter names equal the Python reference's
// state_dict keys (shared/bench/torch_reference.py).
#include <memory>

#include <torch/nn/module.h>

#include "safetrain/models/model_spec.hpp"

namespace safetrain::models {

class RegressionNetImpl : public torch::nn::Module {
 public:
  // Validates `spec` (InputError naming the config key).
  explicit RegressionNetImpl(const ModelSpec& spec);

  // [batch, input_features] -> [batch, outputs]
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;

  const ModelSpec& spec() const { return spec_; }

 protected:
  // TORCH_CHECK that x is [batch, input_features].
  void check_input(const torch::Tensor& x) const;

 private:
  ModelSpec spec_;
};

// A built model of any family.
using RegressionModel = std::shared_ptr<RegressionNetImpl>;

// Builds the spec's family (model_registry.hpp) on the CPU under NoGradGuard
// (initialisation records no graph); the caller moves it to the device.
// Parameters require grad. Logs the model and its parameter count.
RegressionModel build_model(const ModelSpec& spec);

}  // namespace safetrain::models
