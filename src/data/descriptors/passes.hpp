#pragma once
// Private to the descriptor pipeline: the passes, each testable on its own.
#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "safetrain/data/descriptors/pipeline.hpp"

namespace safetrain::data::descriptors {

// Pass 0 (stats_pass.cpp): per-column streaming statistics (Welford) and a content hash for duplicates.
struct ColumnStats {
  int64_t count = 0, missing = 0;
  double mean = 0, m2 = 0;
  double min = std::numeric_limits<double>::infinity(), max = -std::numeric_limits<double>::infinity();
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a over the float bits, NaN canonical
  double variance() const { return count > 1 ? m2 / static_cast<double>(count - 1) : 0.0; }
  double missing_fraction() const {
    const auto total = count + missing;
    return total > 0 ? static_cast<double>(missing) / static_cast<double>(total) : 1.0;
  }
};
std::vector<ColumnStats> compute_stats(RowBatchSource& source);

// Pass 1 (filter_pass.cpp): survivors among `candidates` (column indices); drops appended to `decisions`.
std::vector<int64_t> filter_columns(RowBatchSource& source, const std::vector<ColumnStats>& stats,
                                    const std::vector<int64_t>& candidates, const std::set<int64_t>& protected_columns,
                                    const DescriptorOptions& options, std::vector<ColumnDecision>& decisions);

// Loads the given columns completely, owned: [columns.size(), rows] (column-major for the rank work).
torch::Tensor load_columns(RowBatchSource& source, const std::vector<int64_t>& columns);

// ranks.cpp: average ranks (1-based, ties averaged) along each row of `values` [k, n]; a missing
// cell gets the row's mean rank, so it pulls a correlation neither way.
torch::Tensor average_ranks(const torch::Tensor& values);

// spearman.cpp
enum class NanPolicy { pairwise, fill_mean, drop_rows };
NanPolicy parse_nan_policy(const std::string& name);  // InputError naming descriptors.nan_policy
// Spearman rho between every row of `a` [ka, n] and every row of `b` [kb, n] -> [ka, kb] double.
// Columns without missing cells go through one rank matrix product in row blocks of `block`
// (0: sized so a block of the result stays under 64 MiB); pairs with a missing cell are redone
// over their complete rows under NanPolicy::pairwise (cost: rows with NaN x kb x n log n).
torch::Tensor spearman_cross(const torch::Tensor& a, const torch::Tensor& b, NanPolicy policy = NanPolicy::pairwise,
                             int64_t block = 0, bool prefer_gpu = false);
torch::Tensor spearman_matrix(const torch::Tensor& values, NanPolicy policy = NanPolicy::pairwise, int64_t block = 0,
                              bool prefer_gpu = false);
// Rows (observations) of `values` [k, n] with no missing cell: the drop_rows policy for passes 2-4.
torch::Tensor complete_observations(const torch::Tensor& values);

// What makes a column worth keeping when it is redundant with another: its strongest absolute
// Spearman correlation with a target (the reason we train), then fewer missing cells (less
// imputation), then input order (the earlier column is usually the raw measurement, later ones
// derived). Variance is no criterion: features are standardised before training.
struct Informativeness {
  std::vector<double> target_rho, missing_fraction;
  bool better(int64_t a, int64_t b) const;  // indices into the survivor list
};

// leiden.cpp: Leiden communities (modularity, igraph) of the graph with an edge where |rho| >= threshold.
std::vector<int64_t> leiden_membership(const torch::Tensor& rho, double threshold, double resolution, uint64_t seed);

// spearman_pass.cpp. Pass 2: one representative per community (the best by Informativeness; protected
// columns are kept besides it), then a sweep so that no two kept columns have |rho| >= threshold.
struct SpearmanPassResult {
  std::vector<int64_t> kept;  // positions into `names`, ascending
  std::vector<int64_t> community, representative;  // per position
};
SpearmanPassResult spearman_pass(const torch::Tensor& rho, const std::vector<std::string>& names,
                                 const std::vector<bool>& is_protected, const Informativeness& info,
                                 const DescriptorOptions& options, std::vector<ColumnDecision>& decisions);

// pair_pruning.cpp: pairs above `threshold` in a symmetric score matrix, strongest first, lose their
// less informative member. Returns positions kept.
std::vector<int64_t> drop_redundant_pairs(const torch::Tensor& score, double threshold, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions);

// hsic.cpp. Pass 3: normalised HSIC (Gaussian kernels, median-heuristic bandwidth) between rows of
// `sample` [k, m], missing cells already filled. Kernels are built in blocks of <= `block_bytes`.
torch::Tensor hsic_matrix(const torch::Tensor& sample, int64_t block_bytes = int64_t{256} << 20);
// rdc.cpp. Pass 4: randomized dependence coefficient between rows of `sample` [k, m].
torch::Tensor rdc_matrix(const torch::Tensor& sample, int64_t projections, double scale, uint64_t seed);

}  // namespace safetrain::data::descriptors
