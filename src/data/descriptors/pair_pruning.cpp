// Passes 3 and 4 share this: the sweep over the pairs at or above the threshold, best columns first.
#include <cstdio>

#include "passes.hpp"

namespace safetrain::data::descriptors {

std::vector<int64_t> drop_redundant_pairs(int64_t k, const std::vector<Edge>& edges, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions) {
  std::vector<bool> kept;
  for (const auto& drop : sweep(by_informativeness(k, is_protected, info), edges, is_protected, kept)) {
    const auto& partner = names[static_cast<size_t>(drop.partner)];
    char reason[256];
    std::snprintf(reason, sizeof reason, "%s %.3f with kept '%s'", what, drop.score, partner.c_str());
    decisions.push_back({names[static_cast<size_t>(drop.column)], false, pass, reason, partner, ""});
  }
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < k; ++i) {
    if (kept[static_cast<size_t>(i)]) positions.push_back(i);
  }
  return positions;
}

std::vector<int64_t> drop_redundant_pairs(const torch::Tensor& score, double threshold, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions) {
  return drop_redundant_pairs(score.size(0), edges_at_or_above(score, threshold), pass, what, names, is_protected,
                              info, decisions);
}

}  // namespace safetrain::data::descriptors
