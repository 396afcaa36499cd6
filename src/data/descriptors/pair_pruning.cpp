// Passes 3 and 4 share this: strongest redundant pairs first, the less informative member goes.
#include <algorithm>
#include <cstdio>

#include "passes.hpp"

namespace safetrain::data::descriptors {

std::vector<int64_t> drop_redundant_pairs(const torch::Tensor& score, double threshold, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions) {
  const int64_t k = score.size(0);
  const auto score_double = score.to(torch::kDouble).contiguous();
  const auto sc = score_double.accessor<double, 2>();
  struct Pair { double s; int64_t a, b; };
  std::vector<Pair> pairs;
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = i + 1; j < k; ++j) {
      const double s = sc[i][j];
      if (s > threshold) pairs.push_back({s, i, j});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.s > y.s; });
  std::vector<bool> alive(static_cast<size_t>(k), true);
  for (const auto& p : pairs) {
    if (!alive[static_cast<size_t>(p.a)] || !alive[static_cast<size_t>(p.b)]) continue;
    const bool pa = is_protected[static_cast<size_t>(p.a)], pb = is_protected[static_cast<size_t>(p.b)];
    if (pa && pb) continue;
    int64_t loser = info.better(p.a, p.b) ? p.b : p.a;
    if (pa) loser = p.b;
    if (pb) loser = p.a;
    const int64_t winner = loser == p.a ? p.b : p.a;
    alive[static_cast<size_t>(loser)] = false;
    char reason[200];
    std::snprintf(reason, sizeof reason, "%s %.3f with '%s'", what, p.s, names[static_cast<size_t>(winner)].c_str());
    decisions.push_back({names[static_cast<size_t>(loser)], false, pass, reason, names[static_cast<size_t>(winner)]});
  }
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < k; ++i) {
    if (alive[static_cast<size_t>(i)]) kept.push_back(i);
  }
  return kept;
}

}  // namespace safetrain::data::descriptors
