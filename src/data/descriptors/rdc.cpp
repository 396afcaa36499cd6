// Pass 4 scores: the randomized dependence coefficient (Lopez-Paz et al., 2013). Each column gets an
// orthonormal basis Q (m x projections) of random sinusoidal features of its copula ranks; the RDC
// of a pair is the top singular value of Q_i^T Q_j. All pairs: blocked products of the stacked Q's.
// Pre-screen: the top singular value never exceeds the Frobenius norm, which the product gives for
// free, so only pairs with ||Q_i^T Q_j||_F >= threshold need an SVD. The screen is exact: it cannot
// change a decision.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "passes.hpp"

namespace safetrain::data::descriptors {
namespace {

// Seeded by the column's name, so a column's features do not depend on its position or block.
uint64_t column_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (const unsigned char c : name) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// Basis [m, projections] of column i's centred features, zero-padded past its rank. A column
// whose features vanish (constant) gets no basis at all: its RDC is 0, not an arbitrary vector's.
torch::Tensor column_basis(const torch::Tensor& u, int64_t projections, double scale, uint64_t seed) {
  const int64_t m = u.size(0);
  auto generator = at::detail::createCPUGenerator(seed);
  const auto w = at::empty({2, projections}, torch::kDouble).normal_(0.0, 1.0, generator) * scale;
  const auto augmented = torch::stack({u, torch::ones({m}, torch::kDouble)}, 1);
  auto features = torch::sin(torch::mm(augmented, w));
  features = features - features.mean(0, true);
  auto basis = torch::zeros({m, projections}, torch::kDouble);
  const auto [left, s, vt] = torch::linalg_svd(features, false);
  const double top = s[0].item<double>();
  if (top < 1e-9 * std::sqrt(static_cast<double>(m))) return basis;
  // Dropping tiny singular values regularises the CCA.
  const int64_t rank = (s > top * 1e-6).sum().item<int64_t>();
  basis.narrow(1, 0, rank).copy_(left.narrow(1, 0, rank));
  return basis;
}

struct Copula {
  torch::Tensor u;  // [k, m] ranks scaled to (0, 1]
  std::vector<uint64_t> seeds;
};

torch::Tensor block_bases(const Copula& c, int64_t first, int64_t count, int64_t projections, double scale) {
  auto out = torch::empty({c.u.size(1), count * projections}, torch::kFloat);
  for (int64_t i = 0; i < count; ++i) {
    out.narrow(1, i * projections, projections)
        .copy_(column_basis(c.u[first + i], projections, scale, c.seeds[static_cast<size_t>(first + i)]));
  }
  return out;
}

Copula copula(const torch::Tensor& sample, const std::vector<std::string>& names, uint64_t seed) {
  Copula c{average_ranks(sample).to(torch::kDouble) / static_cast<double>(sample.size(1)), {}};
  for (const auto& name : names) c.seeds.push_back(column_seed(seed, name));
  return c;
}

}  // namespace

std::vector<Edge> rdc_edges(const torch::Tensor& sample, const std::vector<std::string>& names, int64_t projections,
                            double scale, uint64_t seed, double threshold, const std::vector<bool>& judged,
                            WorkingSet& working, ScreenStats& stats) {
  const auto c = copula(sample, names, seed);
  const int64_t k = sample.size(0), m = sample.size(1), r = projections;
  FeatureScorer scorer;
  scorer.width = r;
  scorer.features = [&](int64_t first, int64_t count) {
    Scratch per_column(working, m * (3 * r + 3) * 8);  // features, svd factors, basis
    return block_bases(c, first, count, r, scale);
  };
  scorer.score = [&](const torch::Tensor& gram, int64_t a, int64_t b, std::vector<Edge>& edges) {
    const int64_t ca = gram.size(0) / r, cb = gram.size(1) / r;
    const auto blocks = gram.view({ca, r, cb, r}).permute({0, 2, 1, 3});  // [ca, cb, r, r]
    const auto frobenius = blocks.pow(2).sum({2, 3}).sqrt().contiguous();
    const auto f = frobenius.accessor<float, 2>();
    for (int64_t i = 0; i < ca; ++i) {
      for (int64_t j = 0; j < cb; ++j) {
        const int64_t gi = a + i, gj = b + j;
        if (gj <= gi || !judged[static_cast<size_t>(gi)] || !judged[static_cast<size_t>(gj)]) continue;
        ++stats.pairs;
        if (f[i][j] < threshold) {
          ++stats.screened_out;
          continue;
        }
        const double top = torch::linalg_svdvals(blocks[i][j].to(torch::kDouble))[0].item<double>();
        if (top >= threshold) edges.push_back({gi, gj, std::min(1.0, top)});
      }
    }
  };
  return blocked_pair_scores(k, m, scorer, working);
}

torch::Tensor rdc_matrix(const torch::Tensor& sample, int64_t projections, double scale, uint64_t seed) {
  const int64_t k = sample.size(0);
  std::vector<std::string> names;
  for (int64_t i = 0; i < k; ++i) names.push_back(std::to_string(i));
  const auto bases = block_bases(copula(sample, names, seed), 0, k, projections, scale).to(torch::kDouble);
  const auto blocks = torch::mm(bases.t(), bases).view({k, projections, k, projections}).permute({0, 2, 1, 3});
  return torch::linalg_svdvals(blocks).select(2, 0).clamp(0.0, 1.0);
}

}  // namespace safetrain::data::descriptors
