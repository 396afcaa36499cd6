#pragma once
// data.storage: mmap — training on a table larger than RAM. The table (any format of table_source.hpp) is read once into a float32 cache
// file of its numeric columns with the rows already in split order (train | val | test, each in the
// order the in-memory path uses), then the chosen features and targets are written once more, missing
// values handled and standardised, into a second cache file. Both are memory-mapped read-only: the
// split tensors are views of the second file, so the loader's batch gathers read the kernel's page
// cache and anonymous memory holds only batches, the model and the split's row order.
//
// Every cache is keyed by what shapes its content (the input files' paths, sizes and modification
// times, the split, the columns, the missing-value policy), written atomically, and verified by its
// checksum on open; a damaged cache is rebuilt, never trusted. The results equal prepare()'s bit for bit.
#include <torch/torch.h>

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "safetrain/data/data_options.hpp"
#include "safetrain/data/mapped_file.hpp"
#include "safetrain/data/prepare.hpp"

namespace safetrain::data {

// First row of split 0 (train), 1 (val) or 2 (test) when the splits of `counts` rows lie back to back.
inline int64_t split_start(const std::array<int64_t, 3>& counts, int split) {
  return split == 0 ? 0 : split == 1 ? counts[0] : counts[0] + counts[1];
}

// The numeric columns of a table file, rows in split order, over a mapped cache file.
struct MappedTable {
  std::vector<std::string> columns;
  torch::Tensor values;           // float32 [train + val + test rows, columns], read-only
  torch::Tensor row_ids;          // int64 [same rows]: the row of the source, from 0
  std::array<int64_t, 3> counts;  // rows of train, val, test
  std::string source;             // file or glob, for messages
  std::string key;                // the cache key, folded into the prepared cache's key
  // Rows of split 0 (train), 1 (val) or 2 (test).
  torch::Tensor split_values(int split) const;
  torch::Tensor split_row_ids(int split) const;
};

// Opens the cache of `path_or_glob` under `cache_dir`, building it first when it is missing or damaged.
// id columns are not carried (InputError when `roles` names any).
MappedTable map_source_table(const std::string& path_or_glob, const TableReadOptions& read,
                             const CsvColumnRoles& roles, const SplitOptions& options,
                             const std::filesystem::path& cache_dir);

// prepare() for a mapped table: the same features, targets, missing-value rules, scalers and values, with the
// split tensors mapped read-only from a cache under `cache_dir` (built when missing or damaged).
PreparedData prepare_mapped(const MappedTable& table, const ColumnSelection& selection, const SplitOptions& options,
                            const std::filesystem::path& cache_dir);

}  // namespace safetrain::data
