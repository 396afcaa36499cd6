// Pass 2: Leiden communities, one representative per community, then the sweep that keeps a column
// unless a kept column is at or above the threshold with it.
#include <cstdio>
#include <map>

#include "passes.hpp"

namespace safetrain::data::descriptors {

SpearmanPassResult spearman_pass(int64_t k, const std::vector<Edge>& edges, const std::vector<std::string>& names,
                                 const std::vector<bool>& is_protected, const Informativeness& info,
                                 const DescriptorOptions& o, std::vector<ColumnDecision>& decisions) {
  SpearmanPassResult result;
  result.community = leiden_membership(k, edges, o.leiden_resolution, o.seed);
  std::map<int64_t, int64_t> representative;  // community -> best member
  for (int64_t i = 0; i < k; ++i) {
    auto [it, inserted] = representative.emplace(result.community[static_cast<size_t>(i)], i);
    if (!inserted && info.better(i, it->second)) it->second = i;
  }
  for (int64_t i = 0; i < k; ++i) result.representative.push_back(representative[result.community[static_cast<size_t>(i)]]);
  // Visit protected columns, then representatives, then the rest, each group best first. A member
  // is dropped only for a kept column it is at or above the threshold with (chains do not count).
  std::vector<int64_t> order;
  const auto ranked = by_informativeness(k, is_protected, info);
  for (const bool representatives : {true, false}) {
    for (const int64_t i : ranked) {
      const bool is_representative = result.representative[static_cast<size_t>(i)] == i;
      if (is_protected[static_cast<size_t>(i)] ? representatives : is_representative == representatives) {
        order.push_back(i);
      }
    }
  }
  std::vector<bool> kept;
  for (const auto& drop : sweep(order, edges, is_protected, kept)) {
    const auto& partner = names[static_cast<size_t>(drop.partner)];
    const int64_t rep = result.representative[static_cast<size_t>(drop.column)];
    char reason[256];
    if (rep == drop.partner || rep == drop.column) {
      std::snprintf(reason, sizeof reason, "Spearman |rho| %.3f with kept '%s'", drop.score, partner.c_str());
    } else {
      std::snprintf(reason, sizeof reason, "Spearman |rho| %.3f with kept '%s' (community of '%s')", drop.score,
                    partner.c_str(), names[static_cast<size_t>(rep)].c_str());
    }
    decisions.push_back({names[static_cast<size_t>(drop.column)], false, 2, reason, partner, ""});
  }
  for (int64_t i = 0; i < k; ++i) {
    if (kept[static_cast<size_t>(i)]) result.kept.push_back(i);
  }
  return result;
}

SpearmanPassResult spearman_pass(const torch::Tensor& rho, const std::vector<std::string>& names,
                                 const std::vector<bool>& is_protected, const Informativeness& info,
                                 const DescriptorOptions& o, std::vector<ColumnDecision>& decisions) {
  return spearman_pass(rho.size(0), edges_at_or_above(rho, o.spearman_threshold), names, is_protected, info, o,
                       decisions);
}

}  // namespace safetrain::data::descriptors
