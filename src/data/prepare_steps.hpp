#pragma once
// The steps of prepare() that the memory-mapped path (mapped_storage.cpp) shares, so both apply the same
// column choice, missing-value rules, warnings and messages. Private to safetrain_data.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "safetrain/data/prepare.hpp"
#include "safetrain/data/table.hpp"

namespace safetrain::data::detail {

// Indices of `names` in the table's columns; InputError naming `key` and suggesting a close name otherwise.
std::vector<int64_t> column_indices(const Table& table, const std::vector<std::string>& names, const char* key);
std::vector<int64_t> to_vector(const torch::Tensor& rows);
// Rows of `rows` whose cells in `cols` are all present, in their order.
torch::Tensor complete_rows(const torch::Tensor& values, const std::vector<int64_t>& cols, const torch::Tensor& rows);
// InputError naming the table, the column with the most missing cells and the first such row_id.
void refuse_missing(const torch::Tensor& values, const std::vector<std::string>& names, const torch::Tensor& rows,
                    const std::string& what, const char* split, const std::string& source);
// Per-column means of the present cells of `rows`, in float32 like the features.
std::vector<float> present_means(const torch::Tensor& values, const std::vector<int64_t>& cols, const torch::Tensor& rows);
void fill_missing(torch::Tensor& x, const std::vector<float>& means);
std::vector<std::string> default_features(const Table& table, const std::vector<std::string>& targets,
                                          const ColumnSelection& selection);
// InputError when the missing-value policy and the fractions left no training row.
void require_training_rows(int64_t rows);
void warn_constant_features(const torch::Tensor& train_x, const std::vector<std::string>& names);
void warn_constant_targets(const torch::Tensor& train_y, const std::vector<std::string>& names);
// target_outliers.cpp: InputError for a training target so far out that standardising collapses the
// column's other values in float32, a warning for one merely extreme (named by row_id).
void check_target_outliers(const torch::Tensor& train_y, const std::vector<std::string>& names,
                           const torch::Tensor& row_ids, const std::string& source);

}  // namespace safetrain::data::detail
