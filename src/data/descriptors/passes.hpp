#pragma once
// Private to the descriptor pipeline: the passes, each testable on its own.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "safetrain/data/descriptors/pipeline.hpp"
#include "working_set.hpp"

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
std::vector<ColumnStats> compute_stats(TableSource& source);

// Pass 1 (filter_pass.cpp): survivors among `candidates` (column indices); drops appended to `decisions`.
std::vector<int64_t> filter_columns(TableSource& source, const std::vector<ColumnStats>& stats,
                                    const std::vector<int64_t>& candidates, const std::set<int64_t>& protected_columns,
                                    const DescriptorOptions& options, std::vector<ColumnDecision>& decisions);

// Loads the given columns completely, owned: [columns.size(), rows] (column-major for the rank work).
// With `rows` known (pass 0 counts them) the result is allocated once and filled batch by batch. Reads
// through source.with_columns: only these columns are converted (Parquet: only their column chunks read).
torch::Tensor load_columns(const TableSource& source, const std::vector<int64_t>& columns, int64_t rows = -1);

// ranks.cpp: average ranks (1-based, ties averaged) along each row of `values` [k, n]; a missing
// cell gets the row's mean rank, so it pulls a correlation neither way.
torch::Tensor average_ranks(const torch::Tensor& values);
// One column: ranks of the n values into `out` (a counting sort for integer values in a small
// range, else a radix sort of the float bits), missing cells the mean rank; returns present cells.
struct RankScratch {
  std::vector<uint32_t> keys, keys_swap, index, index_swap, counts;
  std::vector<float> rank_of_value;
  static int64_t bytes_for(int64_t n) { return n * 16 + (int64_t{1} << 13) + n * 4; }
};
int64_t rank_column(const float* values, int64_t n, float* out, RankScratch& scratch);
// The present cells of `values` sorted: scratch.index holds their rows and scratch.keys their order-preserving
// bits (equal values, equal keys), ascending.
void sort_present(const float* values, int64_t n, RankScratch& scratch);

// ranked_columns.cpp: columns replaced by their centred, unit-norm ranks (float32), so the dot
// product of two rows is their Spearman rho; missing cells are 0 (the mean rank).
struct RankedColumns {
  torch::Tensor z;                     // [k, n] float32
  std::vector<torch::Tensor> present;  // per column: rows with a value; undefined when none is missing
  int64_t size() const { return z.size(0); }
  bool has_missing(int64_t i) const { return present[static_cast<size_t>(i)].defined(); }
};
// Ranks `values` [k, n] float32 in place (the tensor becomes z): no second copy of the table.
RankedColumns rank_in_place(torch::Tensor values, WorkingSet& working);
// For every column i of `a` with missing cells: its Spearman with every column of `b` over the rows where
// both are present (pandas' pairwise definition). Each complete column of b is sorted once and re-ranked
// on i's rows by a linear walk of that order, for all such i.
std::map<int64_t, std::vector<double>> pairwise_rows(const RankedColumns& a, const RankedColumns& b, WorkingSet& working);

// spearman.cpp
enum class NanPolicy { pairwise, fill_mean, drop_rows };
NanPolicy parse_nan_policy(const std::string& name);  // InputError naming descriptors.nan_policy
// Spearman rho between every row of `a` [ka, n] and every row of `b` [kb, n] -> [ka, kb] double.
// One float32 product of the ranks in row blocks of `block` (0: sized from 64 MiB); pairs with a
// missing cell are redone over their complete rows under NanPolicy::pairwise.
torch::Tensor spearman_cross(const torch::Tensor& a, const torch::Tensor& b, NanPolicy policy = NanPolicy::pairwise,
                             int64_t block = 0, bool prefer_gpu = false);
torch::Tensor spearman_matrix(const torch::Tensor& values, NanPolicy policy = NanPolicy::pairwise, int64_t block = 0,
                              bool prefer_gpu = false);
// Rows (observations) of `values` [k, n] with no missing cell: the drop_rows policy for passes 2-4.
torch::Tensor complete_observations(const torch::Tensor& values);

// A pair of columns (positions, a < b) and its score; passes 2-4 keep only pairs at or above their
// threshold, never a k x k matrix.
struct Edge {
  int64_t a = 0, b = 0;
  double score = 0;
};
std::vector<Edge> edges_at_or_above(const torch::Tensor& score, double threshold);  // |score| of a square matrix
// All pairs of `r` with |rho| >= threshold, blocked products bounded by `working`; NaN columns pairwise.
std::vector<Edge> spearman_edges(const RankedColumns& r, double threshold, bool prefer_gpu, WorkingSet& working);
// [ka, kb] rho between two ranked sets (features x targets), pairwise where a column has gaps.
torch::Tensor ranked_cross(const RankedColumns& a, const RankedColumns& b, WorkingSet& working);

// order.cpp. The total order that picks the column to keep among redundant ones: strongest absolute
// Spearman with any target (the reason we train), then fewer missing cells (less imputation), then
// larger variance, then the name. Never the position, so a permuted table gives the same answer.
struct Informativeness {
  std::vector<double> target_rho, missing_fraction, variance;
  std::vector<std::string> names;
  bool better(int64_t a, int64_t b) const;  // indices into the survivor list
};
// Greedy sweep shared by passes 2-4: visits `order`, keeps a column unless a kept column shares an
// edge with it (then it is dropped naming the kept neighbour with the highest score). Protected
// columns are always kept. Every drop therefore names a column that stays kept.
struct SweepDrop {
  int64_t column, partner;
  double score;
};
// `accept(column, partner, score)`, when given, must also hold for a partner to count (passes 3-4: the
// partner predicts the column); the kept neighbours are tried best score first.
using SweepAccept = std::function<bool(int64_t column, int64_t partner, double score)>;
std::vector<SweepDrop> sweep(const std::vector<int64_t>& order, const std::vector<Edge>& edges,
                             const std::vector<bool>& is_protected, std::vector<bool>& kept,
                             const SweepAccept& accept = nullptr);
// Positions 0..k-1, protected first, then by Informativeness.
std::vector<int64_t> by_informativeness(int64_t k, const std::vector<bool>& is_protected, const Informativeness& info);

// leiden.cpp: Leiden communities (modularity, igraph) of the graph of `edges` (|rho| >= threshold).
std::vector<int64_t> leiden_membership(int64_t k, const std::vector<Edge>& edges, double resolution, uint64_t seed);
std::vector<int64_t> leiden_membership(const torch::Tensor& rho, double threshold, double resolution, uint64_t seed);

// spearman_pass.cpp. Pass 2: communities, one representative per community (the best by
// Informativeness), then the sweep over representatives and then the rest: a column is dropped only
// when a kept column has |rho| >= threshold with it, and its reason names that column.
struct SpearmanPassResult {
  std::vector<int64_t> kept;  // positions into `names`, ascending
  std::vector<int64_t> community, representative;  // per position
};
SpearmanPassResult spearman_pass(int64_t k, const std::vector<Edge>& edges, const std::vector<std::string>& names,
                                 const std::vector<bool>& is_protected, const Informativeness& info,
                                 const DescriptorOptions& options, std::vector<ColumnDecision>& decisions);
SpearmanPassResult spearman_pass(const torch::Tensor& rho, const std::vector<std::string>& names,
                                 const std::vector<bool>& is_protected, const Informativeness& info,
                                 const DescriptorOptions& options, std::vector<ColumnDecision>& decisions);

// pair_pruning.cpp: passes 3 and 4, the sweep over the pairs at or above `threshold`. Returns positions kept.
// With `check`, a pair counts only when the kept partner predicts the column (predictability.hpp); the
// figures of every drop and every refused pair go to `figures` ({"dropped": [...], "refused": [...]}).
class PredictabilityCheck;
std::vector<int64_t> drop_redundant_pairs(int64_t k, const std::vector<Edge>& edges, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions,
                                          const PredictabilityCheck* check = nullptr, nlohmann::json* figures = nullptr);
std::vector<int64_t> drop_redundant_pairs(const torch::Tensor& score, double threshold, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions);

// sampling.cpp. The row sample of passes 3-4: `rows` rows, stratified so that a rare column (few
// non-zero cells) brings its non-zero rows; missing cells filled with the column mean. [k, m].
torch::Tensor stratified_sample(const torch::Tensor& values, int64_t rows, uint64_t seed);
// That sample and a second one drawn the same way from the rows it left out (undefined when none are left):
// the independent rows a kernel-pass verdict must also hold on (predictability.cpp).
struct RowSamples {
  torch::Tensor sample, holdout;  // [k, m], [k, h]
};
RowSamples disjoint_samples(const torch::Tensor& values, int64_t rows, uint64_t seed);
// Columns the kernel passes cannot judge: fewer than kMinSupport sample rows differ from the
// column's most frequent sample value (constant or nearly so). Their reason, or "" when judged.
inline constexpr int64_t kMinSupport = 10;
std::vector<std::string> unjudgeable_columns(const torch::Tensor& sample);

// feature_blocks.cpp: all-pairs scores of per-column feature blocks [m, width] by blocked products.
// `features(first, count)` returns [m, count * width] float32; `score(gram)` turns a block of the
// Gram matrix [ca, width, cb, width] into scores [ca, cb] and the pairs the screen lets through.
struct FeatureScorer {
  int64_t width = 0;
  std::function<torch::Tensor(int64_t first, int64_t count)> features;
  // Receives Gram [ca * width, cb * width] and the block origins; appends edges >= threshold.
  std::function<void(const torch::Tensor& gram, int64_t first_a, int64_t first_b, std::vector<Edge>& edges)> score;
};
std::vector<Edge> blocked_pair_scores(int64_t k, int64_t m, const FeatureScorer& scorer, WorkingSet& working);

// hsic.cpp. Pass 3: normalised HSIC (centred kernel alignment of Gaussian kernels, median-heuristic
// bandwidth) from rank-`kHsicRank` Nystrom features; pairs >= threshold. `judged[i]` false: no edges.
inline constexpr int64_t kHsicRank = 8;
struct ScreenStats {
  int64_t pairs = 0, screened_out = 0;
};
std::vector<Edge> hsic_edges(const torch::Tensor& sample, double threshold, const std::vector<bool>& judged,
                             WorkingSet& working, ScreenStats& stats);
// Dense [k, k] low-rank scores (tests and small tables).
torch::Tensor hsic_matrix(const torch::Tensor& sample);
// rdc.cpp. Pass 4: randomized dependence coefficient (Lopez-Paz et al., 2013), pairs >= threshold.
std::vector<Edge> rdc_edges(const torch::Tensor& sample, const std::vector<std::string>& names, int64_t projections,
                            double scale, uint64_t seed, double threshold, const std::vector<bool>& judged,
                            WorkingSet& working, ScreenStats& stats);
torch::Tensor rdc_matrix(const torch::Tensor& sample, int64_t projections, double scale, uint64_t seed);

}  // namespace safetrain::data::descriptors
