// Which column stays among redundant ones (a total order, never the position) and the sweep that
// applies it: a dropped column always names a column that is kept.
#include <algorithm>
#include <cmath>

#include "passes.hpp"

namespace safetrain::data::descriptors {
namespace {

// Associations agree to 1e-6 for columns with the same ranks (x and x^3): rounding first makes
// them tie exactly, so the next criterion decides and the order stays transitive.
int64_t rounded(double association) { return std::llround(association * 1e6); }

}  // namespace

bool Informativeness::better(int64_t a, int64_t b) const {
  const auto ua = static_cast<size_t>(a), ub = static_cast<size_t>(b);
  if (ua < target_rho.size() && ub < target_rho.size() && rounded(target_rho[ua]) != rounded(target_rho[ub])) {
    return rounded(target_rho[ua]) > rounded(target_rho[ub]);
  }
  if (ua < missing_fraction.size() && ub < missing_fraction.size() && missing_fraction[ua] != missing_fraction[ub]) {
    return missing_fraction[ua] < missing_fraction[ub];
  }
  if (ua < variance.size() && ub < variance.size() && variance[ua] != variance[ub]) return variance[ua] > variance[ub];
  if (ua < names.size() && ub < names.size() && names[ua] != names[ub]) return names[ua] < names[ub];
  return a < b;  // only for unnamed test inputs
}

std::vector<int64_t> by_informativeness(int64_t k, const std::vector<bool>& is_protected, const Informativeness& info) {
  std::vector<int64_t> order(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) order[static_cast<size_t>(i)] = i;
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const bool pa = is_protected[static_cast<size_t>(a)], pb = is_protected[static_cast<size_t>(b)];
    if (pa != pb) return pa;
    return info.better(a, b);
  });
  return order;
}

std::vector<SweepDrop> sweep(const std::vector<int64_t>& order, const std::vector<Edge>& edges,
                             const std::vector<bool>& is_protected, std::vector<bool>& kept, const SweepAccept& accept) {
  std::vector<std::vector<std::pair<int64_t, double>>> neighbours(is_protected.size());
  for (const auto& e : edges) {
    neighbours[static_cast<size_t>(e.a)].push_back({e.b, e.score});
    neighbours[static_cast<size_t>(e.b)].push_back({e.a, e.score});
  }
  std::vector<size_t> position(is_protected.size());
  for (size_t p = 0; p < order.size(); ++p) position[static_cast<size_t>(order[p])] = p;
  kept.assign(is_protected.size(), false);
  std::vector<SweepDrop> drops;
  for (const int64_t i : order) {
    // Kept neighbours, highest score first; equal scores go to the earlier column of `order` (a total order).
    std::vector<std::pair<int64_t, double>> partners;
    for (const auto& [j, score] : neighbours[static_cast<size_t>(i)]) {
      if (kept[static_cast<size_t>(j)]) partners.push_back({j, score});
    }
    std::sort(partners.begin(), partners.end(), [&](const auto& x, const auto& y) {
      return x.second != y.second ? x.second > y.second
                                  : position[static_cast<size_t>(x.first)] < position[static_cast<size_t>(y.first)];
    });
    int64_t partner = -1;
    double best = -1;
    for (const auto& [j, score] : partners) {
      if (accept && !accept(i, j, score)) continue;  // a second test may refuse a partner
      partner = j;
      best = score;
      break;
    }
    if (partner >= 0 && !is_protected[static_cast<size_t>(i)]) {
      drops.push_back({i, partner, best});
      continue;
    }
    kept[static_cast<size_t>(i)] = true;
  }
  return drops;
}

std::vector<Edge> edges_at_or_above(const torch::Tensor& score, double threshold) {
  const auto s = score.to(torch::kDouble).abs().contiguous();
  const auto a = s.accessor<double, 2>();
  std::vector<Edge> edges;
  for (int64_t i = 0; i < s.size(0); ++i) {
    for (int64_t j = i + 1; j < s.size(1); ++j) {
      if (a[i][j] >= threshold) edges.push_back({i, j, a[i][j]});
    }
  }
  return edges;
}

}  // namespace safetrain::data::descriptors
