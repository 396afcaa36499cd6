#pragma once
// From a table to training tensors: choose target and feature columns,
// handle missing values, split by seed, standardise with training statistics.
#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

#include "safetrain/data/data_options.hpp"
#include "safetrain/data/table.hpp"

namespace safetrain::data {

struct ColumnSelection {
  std::vector<std::string> targets;   // names, or
  std::string target_prefix;          // every column starting with this
  std::vector<std::string> features;  // empty = every non-target column
};

struct Standardizer {  // y = (x - mean) / std; a constant column gets std 1
  torch::Tensor mean, std;
  static Standardizer fit(const torch::Tensor& x);
  static Standardizer identity(int64_t dims);
  torch::Tensor apply(const torch::Tensor& x) const;
  torch::Tensor invert(const torch::Tensor& x) const;
};

struct SplitTensors {
  torch::Tensor x, y, row_ids;  // float32 [n,F], float32 [n,T], int64 [n] (row in the source table)
  int64_t size() const { return row_ids.defined() ? row_ids.size(0) : 0; }
};

struct PreparedData {
  std::vector<std::string> feature_names, target_names;
  SplitTensors train, val, test;
  Standardizer feature_scaler, target_scaler;
  TextColumns ids;  // the source's id columns, indexed by row id (the split tensors' row_ids)
};

struct SplitIndices { torch::Tensor train, val, test; };  // int64 row indices, disjoint
// Seeded random rows by the fractions.
SplitIndices split_indices(int64_t rows, const SplitOptions& options);
// The splits of a table as every caller should take them (the trainer, a re-split of the training table):
// options.split_column's labels, options.group_column's groups (both read as the table's text columns), or
// split_indices. InputError naming the key and the cell for a label other than train/val/test.
SplitIndices split_table(const Table& table, const SplitOptions& options);
// InputError naming the key when a fraction is outside [0, 1] or they add up to more than 1.
void check_split_fractions(const SplitOptions& options);
// Rows of train, val and test for a table of `rows` rows (they add up to every row when the fractions sum to 1).
std::array<int64_t, 3> split_counts(int64_t rows, const SplitOptions& options);

std::vector<std::string> resolve_targets(const Table& table, const ColumnSelection& selection);
// Consumes `table`: handed over (std::move), its buffer becomes the training split with no second copy; a table
// the caller keeps is copied once first.
PreparedData prepare(Table table, const ColumnSelection& selection, const SplitOptions& options);

}  // namespace safetrain::data
