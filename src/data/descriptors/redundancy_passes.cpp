// Passes 2-4 on the survivors: scores as sparse edges (pairs at or above the threshold), then the sweep.
#include "safetrain/common/units.hpp"
#include <chrono>

#include "predictability.hpp"
#include "survivors.hpp"

namespace safetrain::data::descriptors {
namespace {


nlohmann::json working_figures(const WorkingSet& working, size_t edges) {
  return {{"working_set_mb", bytes_to_mb(working.peak())},
          {"max_working_mb", bytes_to_mb(working.budget())},
          {"pairs_at_or_above_threshold", edges}};
}

}  // namespace

PassOutcome run_spearman_pass(const Survivors& s, const DescriptorOptions& o, std::vector<ColumnDecision>& decisions,
                              std::vector<ClusterAssignment>& clusters, WorkingSet& working) {
  const auto edges = spearman_edges(s.ranked, o.spearman_threshold, o.prefer_gpu, working);
  Scratch counted_edges(working, static_cast<int64_t>(edges.size() * sizeof(Edge)));
  const auto k = static_cast<int64_t>(s.names.size());
  const auto pass = spearman_pass(k, edges, s.names, s.is_protected, s.info, o, decisions);
  for (size_t i = 0; i < s.names.size(); ++i) {
    clusters.push_back({s.names[i], pass.community[i], s.names[static_cast<size_t>(pass.representative[i])]});
  }
  return {pass.kept, working_figures(working, edges.size())};
}

PassOutcome run_kernel_pass(int pass, const Survivors& s, const DescriptorOptions& o,
                            std::vector<ColumnDecision>& decisions, WorkingSet& working) {
  const auto reasons = unjudgeable_columns(s.sample);
  std::vector<bool> judged;
  nlohmann::json not_judged = nlohmann::json::array();
  for (size_t i = 0; i < reasons.size(); ++i) {
    judged.push_back(reasons[i].empty());
    if (!reasons[i].empty()) not_judged.push_back({{"column", s.names[i]}, {"reason", reasons[i]}});
  }
  ScreenStats screen;
  const auto edges = pass == 3 ? hsic_edges(s.sample, o.hsic_threshold, judged, working, screen)
                               : rdc_edges(s.sample, s.names, o.rdc_k, o.rdc_s, o.seed, o.rdc_threshold, judged,
                                           working, screen);
  const auto k = static_cast<int64_t>(s.names.size());
  // A score at or above the threshold is only a candidate: the kept partner must also predict the column.
  const PredictabilityCheck check(s.sample, s.holdout, o.seed + static_cast<uint64_t>(pass));
  nlohmann::json figures = {{"dropped", nlohmann::json::array()}, {"refused", nlohmann::json::array()}};
  PassOutcome out;
  out.positions = drop_redundant_pairs(k, edges, pass, pass == 3 ? "normalised HSIC" : "RDC", s.names,
                                       s.is_protected, s.info, decisions, &check, &figures);
  out.extra = working_figures(working, edges.size());
  out.extra["predictability"] = {
      {"test", std::string(pass == 3 ? "normalised HSIC" : "RDC") + " >= threshold, then the kept partner's binned "
                                                                    "mapping must explain the column"},
      {"min_adjusted_r2", kMinExplained},
      {"second_sample", check.holdout_kind()},
      {"second_sample_rows", check.holdout_rows()},
      {"dropped", figures["dropped"]},
      {"refused", figures["refused"]}};
  out.extra["sample_rows"] = s.sample.size(1);
  out.extra["not_judged"] = not_judged;
  out.extra["pairs_scored"] = screen.pairs;
  if (pass == 4) out.extra["pairs_screened_out"] = screen.screened_out;
  return out;
}

}  // namespace safetrain::data::descriptors
