// Pass 3 scores: normalised HSIC (centred kernel alignment) of Gaussian kernels, from low-rank
// Nystrom features instead of m x m kernels. For a column's centred kernel K ~ G G^T (G: m x q),
// <K_i, K_j>_F = ||G_i^T G_j||_F^2, so all pairs are blocked products of the stacked G's followed
// by a sum of squares: O(k^2 q^2 m) instead of O(k^2 m^2). That product is already the cheapest
// step there is, so HSIC needs no separate pre-screen (RDC has one, see rdc.cpp).
#include <algorithm>
#include <cmath>
#include <vector>

#include "passes.hpp"

namespace safetrain::data::descriptors {
namespace {

constexpr int64_t kBandwidthPoints = 256;  // quantile points for the median heuristic (exact below this)
constexpr int64_t kLandmarks = 32;         // Nystrom landmarks: quantiles of the column

// Median heuristic over quantile points of the sorted column: the median positive squared distance.
double median_bandwidth(const std::vector<double>& sorted) {
  const auto m = static_cast<int64_t>(sorted.size());
  std::vector<double> points;
  const int64_t s = std::min(m, kBandwidthPoints);
  for (int64_t i = 0; i < s; ++i) points.push_back(sorted[static_cast<size_t>(s == m ? i : i * (m - 1) / (s - 1))]);
  std::vector<double> distances;
  for (size_t i = 0; i < points.size(); ++i) {
    for (size_t j = i + 1; j < points.size(); ++j) {
      const double d = (points[i] - points[j]) * (points[i] - points[j]);
      if (d > 0) distances.push_back(d);
    }
  }
  if (distances.empty()) return 1.0;
  const auto middle = distances.begin() + static_cast<long>((distances.size() - 1) / 2);
  std::nth_element(distances.begin(), middle, distances.end());
  return *middle;
}

// Rank-q features G of one standardised column x [m] (double): G G^T ~ H K H, scaled so ||G^T G||_F = 1.
torch::Tensor column_features(const torch::Tensor& x) {
  const int64_t m = x.size(0);
  const auto sorted_tensor = std::get<0>(x.sort()).contiguous();
  const std::vector<double> sorted(sorted_tensor.data_ptr<double>(), sorted_tensor.data_ptr<double>() + m);
  const double width = 2.0 * median_bandwidth(sorted);
  std::vector<double> landmarks;
  for (int64_t i = 0; i < kLandmarks; ++i) {
    const double v = sorted[static_cast<size_t>(i * (m - 1) / (kLandmarks - 1))];
    if (landmarks.empty() || v != landmarks.back()) landmarks.push_back(v);
  }
  const auto l = torch::tensor(landmarks, torch::kDouble);
  const auto cross = torch::exp(-(x.unsqueeze(1) - l.unsqueeze(0)).pow(2) / width);     // [m, p]
  const auto inner = torch::exp(-(l.unsqueeze(1) - l.unsqueeze(0)).pow(2) / width);     // [p, p]
  const auto [e, v] = torch::linalg_eigh(inner);
  const auto inv_sqrt = torch::where(e > e.max() * 1e-10, e.clamp_min(1e-300).rsqrt(), torch::zeros_like(e));
  auto phi = torch::mm(cross, v * inv_sqrt.unsqueeze(0));  // K ~ phi phi^T
  phi = phi - phi.mean(0, true);                           // H K H ~ (H phi)(H phi)^T
  const auto [u, s, vt] = torch::linalg_svd(phi, false);
  const int64_t q = std::min<int64_t>(kHsicRank, s.size(0));
  auto g = torch::zeros({m, kHsicRank}, torch::kDouble);
  const double norm4 = s.narrow(0, 0, q).pow(4).sum().item<double>();
  if (norm4 > 1e-24) g.narrow(1, 0, q).copy_(u.narrow(1, 0, q) * s.narrow(0, 0, q) / std::pow(norm4, 0.25));
  return g;
}

torch::Tensor standardise(const torch::Tensor& sample) {
  auto x = sample.to(torch::kDouble);
  return (x - x.mean(1, true)) / x.std(1, true, true).clamp_min(1e-12);
}

// [m, count * q] float32 features of columns first..first+count.
torch::Tensor block_features(const torch::Tensor& x, int64_t first, int64_t count) {
  auto out = torch::empty({x.size(1), count * kHsicRank}, torch::kFloat);
  for (int64_t i = 0; i < count; ++i) out.narrow(1, i * kHsicRank, kHsicRank).copy_(column_features(x[first + i]));
  return out;
}

// Scores [ca, cb] from a Gram block: per pair the squared Frobenius norm of its q x q sub-block.
torch::Tensor pair_scores(const torch::Tensor& gram, int64_t ca, int64_t cb) {
  // One double copy of the block, squared in place: the peak is the Gram block three times, not five.
  return gram.view({ca, kHsicRank, cb, kHsicRank}).to(torch::kDouble).pow_(2).sum({1, 3}).clamp_(0.0, 1.0);
}

}  // namespace

std::vector<Edge> hsic_edges(const torch::Tensor& sample, double threshold, const std::vector<bool>& judged,
                             WorkingSet& working, ScreenStats& stats) {
  const auto x = standardise(sample);
  const int64_t k = x.size(0), m = x.size(1);
  FeatureScorer scorer;
  scorer.width = kHsicRank;
  scorer.features = [&](int64_t first, int64_t count) {
    Scratch per_column(working, m * (3 * kLandmarks + kHsicRank + 2) * 8);  // cross, phi, u, g, x sorted
    return block_features(x, first, count);
  };
  scorer.score = [&](const torch::Tensor& gram, int64_t a, int64_t b, std::vector<Edge>& edges) {
    const int64_t ca = gram.size(0) / kHsicRank, cb = gram.size(1) / kHsicRank;
    const auto scores = pair_scores(gram, ca, cb).contiguous();
    const auto s = scores.accessor<double, 2>();
    for (int64_t i = 0; i < ca; ++i) {
      for (int64_t j = 0; j < cb; ++j) {
        const int64_t gi = a + i, gj = b + j;
        if (gj <= gi || !judged[static_cast<size_t>(gi)] || !judged[static_cast<size_t>(gj)]) continue;
        ++stats.pairs;
        if (s[i][j] >= threshold) edges.push_back({gi, gj, s[i][j]});
      }
    }
  };
  return blocked_pair_scores(k, m, scorer, working);
}

torch::Tensor hsic_matrix(const torch::Tensor& sample) {
  const auto x = standardise(sample);
  const int64_t k = x.size(0);
  const auto features = block_features(x, 0, k);
  return pair_scores(torch::mm(features.t(), features), k, k);
}

}  // namespace safetrain::data::descriptors
