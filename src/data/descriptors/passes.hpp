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

// Pass 0: per-column streaming statistics (Welford) and a content hash for duplicate detection.
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

// Pass 1: survivors among `candidates` (column indices); drops are appended to `decisions`.
std::vector<int64_t> filter_columns(RowBatchSource& source, const std::vector<ColumnStats>& stats,
                                    const std::vector<int64_t>& candidates, const std::set<int64_t>& protected_columns,
                                    const DescriptorOptions& options, std::vector<ColumnDecision>& decisions);

// Loads the given columns completely: [columns.size(), rows] (column-major for the rank work).
torch::Tensor load_columns(RowBatchSource& source, const std::vector<int64_t>& columns);

// Average ranks (1-based, ties averaged) per row of `values` [k, n]; NaN gets the mean rank.
torch::Tensor average_ranks(const torch::Tensor& values);
// Spearman rho between every pair of rows of `values` [k, n], the product done in row blocks of `block`.
torch::Tensor spearman_matrix(const torch::Tensor& values, int64_t block = 256, bool prefer_gpu = false);

// What makes a column worth keeping when it is redundant with another: its strongest absolute
// Spearman correlation with a target (the reason we train), then fewer missing cells (less
// imputation), then input order (the earlier column is usually the raw measurement, later ones
// derived). Variance is no criterion: features are standardised before training.
struct Informativeness {
  std::vector<double> target_rho, missing_fraction;
  bool better(int64_t a, int64_t b) const;  // indices into the survivor list
};

// Pass 2: Leiden communities on the |rho| >= threshold graph, one representative each, then a sweep
// so that no two kept columns have |rho| >= threshold. Returns positions (into `names`) kept.
std::vector<int64_t> spearman_pass(const torch::Tensor& rho, const std::vector<std::string>& names,
                                   const std::vector<bool>& is_protected, const Informativeness& info,
                                   const DescriptorOptions& options, std::vector<ColumnDecision>& decisions);

// Pairwise redundancy from a symmetric score matrix: pairs above `threshold`, strongest first,
// lose their less informative member. Returns positions kept.
std::vector<int64_t> drop_redundant_pairs(const torch::Tensor& score, double threshold, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions);

// Pass 3: normalised HSIC (Gaussian kernels, median-heuristic bandwidth) between rows of `sample` [k, m].
torch::Tensor hsic_matrix(const torch::Tensor& sample);
// Pass 4: randomized dependence coefficient between rows of `sample` [k, m].
torch::Tensor rdc_matrix(const torch::Tensor& sample, int64_t projections, double scale, uint64_t seed);

}  // namespace safetrain::data::descriptors
