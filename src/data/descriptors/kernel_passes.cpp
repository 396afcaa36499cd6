// Passes 3 and 4: non-linear redundancy on a row sample (HSIC, RDC).
#include <cmath>

#include "passes.hpp"

namespace safetrain::data::descriptors {

torch::Tensor hsic_matrix(const torch::Tensor& sample) {
  const int64_t k = sample.size(0), m = sample.size(1);
  auto x = sample.to(torch::kDouble);
  x = (x - x.mean(1, true)) / x.std(1, true, true).clamp_min(1e-12);
  // One normalised, centred kernel per column, flattened (float: m^2 x 4 bytes each): their Gram
  // matrix is the normalised HSIC of every pair.
  auto flat = torch::empty({k, m * m}, torch::kFloat);
  for (int64_t i = 0; i < k; ++i) {
    const auto xi = x[i];
    const auto distances = (xi.unsqueeze(0) - xi.unsqueeze(1)).pow(2);
    const auto positive = distances.masked_select(distances > 0);
    const double median = positive.numel() > 0 ? positive.median().item<double>() : 1.0;  // median heuristic
    const auto kernel = torch::exp(-distances / (2.0 * median));
    // H K H without forming H: subtract row and column means, add back the grand mean.
    const auto centred = kernel - kernel.mean(0, true) - kernel.mean(1, true) + kernel.mean();
    flat[i].copy_(centred.flatten() / centred.norm().clamp_min(1e-12));
  }
  return torch::mm(flat, flat.t()).to(torch::kDouble).clamp(0.0, 1.0);
}

torch::Tensor rdc_matrix(const torch::Tensor& sample, int64_t projections, double scale, uint64_t seed) {
  const int64_t k = sample.size(0), m = sample.size(1);
  // Copula transform: ranks scaled to (0, 1], then random sinusoidal features of [u, 1].
  const auto u = average_ranks(sample).to(torch::kDouble) / static_cast<double>(m);
  auto generator = at::detail::createCPUGenerator(seed);
  std::vector<torch::Tensor> bases;
  for (int64_t i = 0; i < k; ++i) {
    const auto w = at::empty({2, projections}, torch::kDouble).normal_(0.0, 1.0, generator) * scale;
    const auto augmented = torch::stack({u[i], torch::ones({m}, torch::kDouble)}, 1);
    auto features = torch::sin(torch::mm(augmented, w));
    features = features - features.mean(0, true);
    // An orthonormal basis of the feature span; dropping tiny singular values regularises the CCA.
    const auto svd = torch::linalg_svd(features, false);
    const auto& s = std::get<1>(svd);
    const int64_t rank = std::max<int64_t>(1, (s > s[0] * 1e-6).sum().item<int64_t>());
    bases.push_back(std::get<0>(svd).narrow(1, 0, rank));
  }
  auto rdc = torch::eye(k, torch::kDouble);
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = i + 1; j < k; ++j) {
      // The largest canonical correlation is the top singular value of Qi^T Qj.
      const double value = torch::linalg_svdvals(torch::mm(bases[i].t(), bases[j]))[0].item<double>();
      rdc[i][j] = value;
      rdc[j][i] = value;
    }
  }
  return rdc.clamp(0.0, 1.0);
}

}  // namespace safetrain::data::descriptors
