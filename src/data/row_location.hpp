#pragma once
// Where a data row of a table lives in its file, for messages about values judged after the read (a
// target outlier, a missing cell): "file:line:column" for CSV, "file: row N, column 'c'" for Parquet.
// Private to safetrain_data.
#include <cstdint>
#include <string>

#include "safetrain/data/data_options.hpp"

namespace safetrain::data::detail {

// `row` counts data rows from 0 across the files of `source` (a path or glob) in read order. A source
// that is not a set of files (a generator) is named as it is, with the row.
std::string cell_location(const std::string& source, int64_t row, const std::string& column,
                          const TableReadOptions& read = {});

}  // namespace safetrain::data::detail
