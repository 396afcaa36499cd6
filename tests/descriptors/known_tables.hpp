#pragma once
// Tables whose pruning answer is known, shared by the descriptor tests.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "safetrain/data/tensor_source.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"

namespace known_tables {

// x (symmetric on [-2, 2]), its exact duplicate, x^3 (monotone: Spearman 1), a constant, a mostly
// missing column, x^2 (Spearman ~0 with x, but a function of it), an independent column, the target.
inline safetrain::data::TensorTableSource redundant_table(int64_t rows, int64_t batch_rows = 64) {
  torch::manual_seed(1);
  const auto x = torch::rand({rows}) * 4 - 2;
  const auto other = torch::randn({rows});
  auto sparse = torch::randn({rows});
  sparse.narrow(0, 0, rows * 9 / 10).fill_(NAN);
  std::vector<std::string> names = {"x", "x_dup", "x_cubed", "const", "sparse", "x_squared", "other", "target"};
  const auto values =
      torch::stack({x, x.clone(), x.pow(3), torch::full({rows}, 3.0), sparse, x * x, other, x + 0.1 * other}, 1);
  return safetrain::data::TensorTableSource(names, values, batch_rows);
}

inline std::string reason_for(const safetrain::data::descriptors::PipelineResult& r, const std::string& column) {
  for (const auto& d : r.decisions) {
    if (d.column == column) return d.kept ? "kept" : "pass " + std::to_string(d.pass) + ": " + d.reason;
  }
  return "?";
}

inline bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace known_tables
