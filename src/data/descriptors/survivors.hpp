#pragma once
// Private to the pipeline: what passes 2-4 hold about the pass-1 survivors.
#include <set>

#include "passes.hpp"

namespace safetrain::data::descriptors {

// Survivors in name order (the canonical order: a permuted input gives the same tensors).
struct Survivors {
  std::vector<std::string> names;
  Informativeness info;
  std::vector<bool> is_protected;
  torch::Tensor target_rho;  // [k, targets] signed Spearman, for the report
  RankedColumns ranked;      // all rows, as ranks: pass 2 (freed after it)
  torch::Tensor sample;      // [k, m] the stratified row sample of passes 3-4
  torch::Tensor holdout;     // [k, h] a second one from the other rows (undefined when none): predictability
  int64_t held_bytes() const;
};

struct SurvivorSetup {
  const std::vector<int64_t>* target_columns;
  const std::set<int64_t>* protected_columns;
  const std::vector<ColumnStats>* stats;  // may be null (resumed): then missing and variance are measured
  NanPolicy policy;
  bool need_sample;
  int64_t rows = -1;  // known row count (pass 0), or -1
};
// Loads the survivors (all rows: the bound of pass 2), ranks them in place, scores them against the targets.
Survivors load_survivors(TableSource& source, std::vector<std::string> kept, const DescriptorOptions& options,
                         const SurvivorSetup& setup, WorkingSet& working);
// Keeps only `positions` (into names); the ranks are released (only pass 2 uses them).
void narrow_survivors(Survivors& s, const std::vector<int64_t>& positions);

}  // namespace safetrain::data::descriptors

namespace safetrain::data::descriptors {

struct PassOutcome {
  std::vector<int64_t> positions;  // kept, into the survivors
  nlohmann::json extra;            // report fields of the pass
};
// Pass 2 on the ranks: edges >= threshold, Leiden, sweep. Appends the clusters.
PassOutcome run_spearman_pass(const Survivors& s, const DescriptorOptions& o, std::vector<ColumnDecision>& decisions,
                              std::vector<ClusterAssignment>& clusters, WorkingSet& working);
// Pass 3 (HSIC) or 4 (RDC) on the row sample; columns too thin in the sample are not judged.
PassOutcome run_kernel_pass(int pass, const Survivors& s, const DescriptorOptions& o,
                            std::vector<ColumnDecision>& decisions, WorkingSet& working);

// final_report.cpp: every dropped column's kept stand-in (its partner, followed through later drops),
// per-target association of the kept columns, the settings used.
void complete_report(PipelineResult& result, const DescriptorOptions& o, const Survivors* survivors);

}  // namespace safetrain::data::descriptors
