// Pass 4 scores: the randomized dependence coefficient (Lopez-Paz et al., 2013).
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "passes.hpp"

namespace safetrain::data::descriptors {

torch::Tensor rdc_matrix(const torch::Tensor& sample, int64_t projections, double scale, uint64_t seed) {
  const int64_t k = sample.size(0), m = sample.size(1);
  // Copula transform: ranks scaled to (0, 1], then random sinusoidal features of [u, 1].
  const auto u = average_ranks(sample).to(torch::kDouble) / static_cast<double>(m);
  auto generator = at::detail::createCPUGenerator(seed);
  // Bases [k, m, projections], zero-padded past each column's rank: zero columns add no singular value.
  auto bases = torch::zeros({k, m, projections}, torch::kDouble);
  for (int64_t i = 0; i < k; ++i) {
    const auto w = at::empty({2, projections}, torch::kDouble).normal_(0.0, 1.0, generator) * scale;
    const auto augmented = torch::stack({u[i], torch::ones({m}, torch::kDouble)}, 1);
    auto features = torch::sin(torch::mm(augmented, w));
    features = features - features.mean(0, true);
    // An orthonormal basis of the feature span; dropping tiny singular values regularises the CCA.
    const auto svd = torch::linalg_svd(features, false);
    const auto& s = std::get<1>(svd);
    const int64_t rank = std::max<int64_t>(1, (s > s[0] * 1e-6).sum().item<int64_t>());
    bases[i].narrow(1, 0, rank).copy_(std::get<0>(svd).narrow(1, 0, rank));
  }
  auto rdc = torch::eye(k, torch::kDouble);
  for (int64_t i = 0; i + 1 < k; ++i) {
    // The largest canonical correlation is the top singular value of Qi^T Qj: all j > i in one batch.
    const auto later = bases.narrow(0, i + 1, k - i - 1);
    const auto top = torch::linalg_svdvals(torch::matmul(bases[i].t().unsqueeze(0), later)).select(1, 0);
    rdc[i].narrow(0, i + 1, k - i - 1).copy_(top);
    rdc.select(1, i).narrow(0, i + 1, k - i - 1).copy_(top);
  }
  return rdc.clamp(0.0, 1.0);
}

}  // namespace safetrain::data::descriptors
