#include "safetrain/models/regression_model.hpp"

#include <torch/torch.h>

#include "safetrain/common/log.hpp"
#include "safetrain/models/model_registry.hpp"
#include "safetrain/models/parameter_count.hpp"

namespace safetrain::models {

RegressionNetImpl::RegressionNetImpl(const ModelSpec& spec) : spec_(spec) { validate(spec_); }

void RegressionNetImpl::check_input(const torch::Tensor& x) const {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == spec_.input_features, "model expects [batch, ", spec_.input_features,
              "] inputs, got ", x.sizes());
}

RegressionModel build_model(const ModelSpec& spec) {
  torch::NoGradGuard no_grad;
  RegressionModel model = family_of(spec).build(spec);
  log::info("model: ", describe(spec), ", ", count_parameters(*model), " parameters");
  return model;
}

}  // namespace safetrain::models
