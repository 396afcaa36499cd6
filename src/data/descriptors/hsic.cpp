// Pass 3 scores: normalised HSIC (centred kernel alignment) with Gaussian kernels.
#include <algorithm>
#include <vector>

#include "passes.hpp"

namespace safetrain::data::descriptors {
namespace {

torch::Tensor squared_distances(const torch::Tensor& xi) { return (xi.unsqueeze(0) - xi.unsqueeze(1)).pow(2); }

// Median heuristic: the kernel width of each row of x [k, m] is the median positive squared distance.
// Computed once per column, since the blocked Gram below rebuilds kernels several times.
std::vector<double> median_bandwidths(const torch::Tensor& x) {
  std::vector<double> medians;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const auto distances = squared_distances(x[i]);
    const auto positive = distances.masked_select(distances > 0);
    medians.push_back(positive.numel() > 0 ? positive.median().item<double>() : 1.0);
  }
  return medians;
}

// One centred, unit-norm Gaussian kernel per row of x [b, m], flattened to [b, m*m] floats.
torch::Tensor centred_kernels(const torch::Tensor& x, const double* medians) {
  const int64_t b = x.size(0), m = x.size(1);
  auto flat = torch::empty({b, m * m}, torch::kFloat);
  for (int64_t i = 0; i < b; ++i) {
    // Float: the kernel is stored as float anyway, and building it dominates the pass.
    const auto kernel = torch::exp(-squared_distances(x[i].to(torch::kFloat)) / (2.0 * medians[i]));
    // H K H without forming H: subtract row and column means, add back the grand mean.
    const auto centred = kernel - kernel.mean(0, true) - kernel.mean(1, true) + kernel.mean();
    flat[i].copy_(centred.flatten() / centred.norm().clamp_min(1e-12));
  }
  return flat;
}

}  // namespace

torch::Tensor hsic_matrix(const torch::Tensor& sample, int64_t block_bytes) {
  const int64_t k = sample.size(0), m = sample.size(1);
  auto x = sample.to(torch::kDouble);
  x = (x - x.mean(1, true)) / x.std(1, true, true).clamp_min(1e-12);
  // HSIC(i, j) / sqrt(HSIC(i, i) HSIC(j, j)) is the inner product of the normalised centred kernels.
  // Two blocks of kernels are alive at once (m^2 floats per column), so blocks hold half the budget.
  const int64_t block = std::max<int64_t>(1, block_bytes / std::max<int64_t>(1, 2 * m * m * 4));
  const auto medians = median_bandwidths(x);
  auto score = torch::empty({k, k}, torch::kDouble);
  for (int64_t a = 0; a < k; a += block) {
    const int64_t rows_a = std::min(block, k - a);
    const auto ka = centred_kernels(x.narrow(0, a, rows_a), medians.data() + a);
    for (int64_t b = a; b < k; b += block) {
      const int64_t rows_b = std::min(block, k - b);
      const auto kb = b == a ? ka : centred_kernels(x.narrow(0, b, rows_b), medians.data() + b);
      const auto gram = torch::mm(ka, kb.t()).to(torch::kDouble);
      score.narrow(0, a, rows_a).narrow(1, b, rows_b).copy_(gram);
      score.narrow(0, b, rows_b).narrow(1, a, rows_a).copy_(gram.t());
    }
  }
  return score.clamp_(0.0, 1.0);
}

}  // namespace safetrain::data::descriptors
