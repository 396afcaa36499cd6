// Passes 3 and 4 share this: the sweep over the pairs at or above the threshold, best columns first; with a
// predictability check (predictability.hpp) a pair counts only when the kept partner predicts the column.
#include <cmath>
#include <cstdio>

#include "passes.hpp"
#include "predictability.hpp"

namespace safetrain::data::descriptors {
namespace {

nlohmann::json pair_figures(const std::string& column, const std::string& partner, double score,
                            const Predictability& p) {
  const auto number = [](double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); };
  return {{"column", column}, {"partner", partner}, {"score", score}, {"adjusted_r2_sample", number(p.r2_sample)},
          {"adjusted_r2_holdout", number(p.r2_holdout)}, {"partner_bins", p.bins}};
}

}  // namespace

std::vector<int64_t> drop_redundant_pairs(int64_t k, const std::vector<Edge>& edges, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions,
                                          const PredictabilityCheck* check, nlohmann::json* figures) {
  std::vector<bool> kept;
  std::map<std::pair<int64_t, int64_t>, Predictability> verdicts;
  SweepAccept accept;
  if (check) {
    accept = [&](int64_t column, int64_t partner, double score) {
      const auto p = (*check)(column, partner);
      verdicts[{column, partner}] = p;
      if (!p.predictable && figures && !is_protected[static_cast<size_t>(column)]) {
        (*figures)["refused"].push_back(pair_figures(names[static_cast<size_t>(column)],
                                                     names[static_cast<size_t>(partner)], score, p));
      }
      return p.predictable;
    };
  }
  for (const auto& drop : sweep(by_informativeness(k, is_protected, info), edges, is_protected, kept, accept)) {
    const auto& partner = names[static_cast<size_t>(drop.partner)];
    char reason[320];
    if (check) {
      const auto& p = verdicts.at({drop.column, drop.partner});
      std::snprintf(reason, sizeof reason,
                    "%s %.3f with kept '%s', which predicts it: adjusted R2 %.3f on the pass sample (%lld bins), "
                    "%.3f on independent rows",
                    what, drop.score, partner.c_str(), p.r2_sample, static_cast<long long>(p.bins), p.r2_holdout);
      if (figures) (*figures)["dropped"].push_back(pair_figures(names[static_cast<size_t>(drop.column)], partner,
                                                                drop.score, p));
    } else {
      std::snprintf(reason, sizeof reason, "%s %.3f with kept '%s'", what, drop.score, partner.c_str());
    }
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
