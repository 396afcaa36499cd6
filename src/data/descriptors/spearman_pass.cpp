// Pass 2: one representative per Spearman community, then the sweep.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "passes.hpp"

namespace safetrain::data::descriptors {

bool Informativeness::better(int64_t a, int64_t b) const {
  const auto ua = static_cast<size_t>(a), ub = static_cast<size_t>(b);
  if (std::abs(target_rho[ua] - target_rho[ub]) > 1e-9) return target_rho[ua] > target_rho[ub];
  if (std::abs(missing_fraction[ua] - missing_fraction[ub]) > 1e-12) return missing_fraction[ua] < missing_fraction[ub];
  return a < b;
}

SpearmanPassResult spearman_pass(const torch::Tensor& rho, const std::vector<std::string>& names,
                                 const std::vector<bool>& is_protected, const Informativeness& info,
                                 const DescriptorOptions& o, std::vector<ColumnDecision>& decisions) {
  const int64_t k = rho.size(0);
  const auto rho_double = rho.to(torch::kDouble).contiguous();
  const auto r = rho_double.accessor<double, 2>();
  SpearmanPassResult result;
  result.community = leiden_membership(rho, o.spearman_threshold, o.leiden_resolution, o.seed);
  const auto& membership = result.community;
  // One representative per community (protected columns are always kept besides it).
  std::map<int64_t, int64_t> representative;
  for (int64_t i = 0; i < k; ++i) {
    auto [it, inserted] = representative.emplace(membership[static_cast<size_t>(i)], i);
    if (!inserted && info.better(i, it->second)) it->second = i;
  }
  std::vector<bool> alive(static_cast<size_t>(k), false);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t rep = representative[membership[static_cast<size_t>(i)]];
    result.representative.push_back(rep);
    if (i == rep || is_protected[static_cast<size_t>(i)]) {
      alive[static_cast<size_t>(i)] = true;
      continue;
    }
    char reason[200];
    std::snprintf(reason, sizeof reason, "Spearman community of '%s' (|rho| %.3f)", names[static_cast<size_t>(rep)].c_str(),
                  std::abs(r[i][rep]));
    decisions.push_back({names[static_cast<size_t>(i)], false, 2, reason, names[static_cast<size_t>(rep)]});
  }
  // Communities do not guarantee it: sweep greedily, best columns first, protected ones before all.
  std::vector<int64_t> order;
  for (int64_t i = 0; i < k; ++i) {
    if (alive[static_cast<size_t>(i)]) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (is_protected[static_cast<size_t>(a)] != is_protected[static_cast<size_t>(b)]) return bool(is_protected[static_cast<size_t>(a)]);
    return info.better(a, b);
  });
  std::vector<int64_t> kept;
  for (const int64_t i : order) {
    int64_t clash = -1;
    for (const int64_t j : kept) {
      if (std::abs(r[i][j]) >= o.spearman_threshold) {
        clash = j;
        break;
      }
    }
    if (clash >= 0 && !is_protected[static_cast<size_t>(i)]) {
      char reason[200];
      std::snprintf(reason, sizeof reason, "sweep: |rho| %.3f with kept '%s'", std::abs(r[i][clash]),
                    names[static_cast<size_t>(clash)].c_str());
      decisions.push_back({names[static_cast<size_t>(i)], false, 2, reason, names[static_cast<size_t>(clash)]});
      continue;
    }
    kept.push_back(i);
  }
  std::sort(kept.begin(), kept.end());
  result.kept = std::move(kept);
  return result;
}

}  // namespace safetrain::data::descriptors
