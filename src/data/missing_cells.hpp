#pragma once
// Missing cells refused while reading (CsvColumnRoles::missing), so a run under data.nan_policy: error fails in
// seconds with the cell's file location, not after minutes of descriptor pruning. Private to safetrain_data.
#include <cstdint>
#include <string>
#include <vector>

#include "safetrain/data/data_options.hpp"

namespace safetrain::data::detail {

class MissingCellCheck {
 public:
  // `columns`: the numeric columns of the source, in the order of its rows.
  MissingCellCheck(const std::vector<std::string>& columns, const CsvColumnRoles& roles, std::string source,
                   TableReadOptions read);
  bool active() const { return !checked_.empty(); }
  // InputError at the first missing cell of a checked column in `n` rows (row-major) whose first is source row
  // `first_row` (from 0, across the files of a glob).
  void check(const float* rows, int64_t n, int64_t first_row) const;

 private:
  std::vector<std::string> columns_;
  std::vector<int64_t> checked_;
  std::string source_;
  TableReadOptions read_;
};

}  // namespace safetrain::data::detail
