#pragma once
// Warnings before training for inputs that let a model look better than it is: a feature that is almost a
// copy of a target (a leak), and a numeric column that is a row id or counter (a model can only memorise it).
#include <torch/torch.h>

#include <string>
#include <vector>

#include "safetrain/data/prepare.hpp"

namespace safetrain::data {

// |Pearson r| between a feature and a target on the training rows at or above which the feature is a leak.
inline constexpr double kLeakCorrelation = 0.999;
// Cells of the training split read for the correlations at most (a prefix of its rows, which are in random order
// for a seeded split): the figure is steady long before that, and the one double copy stays ~2 MB, under the
// load phase's forecast (a 16 MB copy once raised the load peak of a 100k-row table by half).
inline constexpr int64_t kLeakSampleCells = int64_t{1} << 18;
// Rows judged for an id column at most (a prefix of the rows given, put in source order): a counter is monotone
// on any subset, and a column that is not one fails within a few rows.
inline constexpr int64_t kIdSampleRows = int64_t{1} << 17;
// Rows needed before a column is called an id: on a handful of rows every counter is a coincidence.
inline constexpr int64_t kIdMinRows = 20;

struct IdLikeColumn {
  std::string name;
  double first = 0, last = 0;  // the values of the first and last source rows
  int64_t rows = 0;
};
// Among `candidates`, the columns of `values` (raw, not standardised: [rows, columns]) whose cells, in source
// row order, are all integers and strictly increasing or strictly decreasing (so all unique). `row_ids` gives
// each row's source row (undefined: the rows are already in source order). Stops at a column's first
// counter-example, so the usual column costs a few cells.
std::vector<IdLikeColumn> id_like_columns(const torch::Tensor& values, const torch::Tensor& row_ids,
                                          const std::vector<std::string>& columns,
                                          const std::vector<std::string>& candidates);

struct LeakFinding {
  std::string feature, target;
  double r = 0;
  int64_t rows = 0;  // training rows the figure came from
};
// Feature-target pairs of the prepared training split with |Pearson r| >= kLeakCorrelation.
std::vector<LeakFinding> near_copies_of_targets(const PreparedData& data);

// One warning line per finding (leaks, then the id-like columns among the features), naming the column, the
// figure and the key that leaves it out: data.ignore_columns, or data.features when the run lists its features.
// Returns the lines.
std::vector<std::string> warn_about_leaks(const PreparedData& data, const std::vector<IdLikeColumn>& id_like,
                                          bool features_listed);

}  // namespace safetrain::data
