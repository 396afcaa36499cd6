#include "safetrain/models/parameter_count.hpp"

#include <torch/torch.h>

#include "safetrain/models/model_registry.hpp"

namespace safetrain::models {

int64_t expected_parameter_count(const ModelSpec& spec) { return family_of(spec).parameter_count(spec); }

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters(/*recurse=*/true)) total += p.numel();
  return total;
}

}  // namespace safetrain::models
