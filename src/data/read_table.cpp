#include <algorithm>
#include <utility>

#include "safetrain/common/error.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/data/owned_rows.hpp"
#include "safetrain/data/table_source.hpp"
#include "missing_cells.hpp"

namespace safetrain::data {
namespace {

// Rows into `values` from row `rows` on, growing it by half when the source holds more rows than its bound
// promised (a file that grew since it was counted: rare). The source is asked for all the room there is, so it
// converts as much as it can straight into the buffer (Parquet: whole row groups, a few columns at a time; CSV:
// several blocks in parallel).
int64_t fill_rows(TableSource& source, torch::Tensor& values, TextColumns& ids, int64_t& largest,
                  const detail::MissingCellCheck* missing) {
  const auto width = static_cast<int64_t>(source.columns().size());
  std::vector<float> spare(static_cast<size_t>(width));
  int64_t rows = 0;
  while (true) {
    const int64_t room = values.size(0) - rows;
    if (room > 0) {
      float* at = values.data_ptr<float>() + rows * width;
      const int64_t n = source.read_rows(at, room, &ids);
      if (n == 0) return rows;
      if (missing) missing->check(at, n, rows);
      rows += n;
      continue;
    }
    if (source.read_rows(spare.data(), 1, &ids) == 0) return rows;
    if (missing) missing->check(spare.data(), 1, rows);
    auto grown = torch::empty({rows + rows / 2 + 1024, width});
    grown.narrow(0, 0, rows).copy_(values);
    std::copy(spare.begin(), spare.end(), grown.data_ptr<float>() + rows * width);
    values = std::move(grown);
    largest = std::max<int64_t>(largest, values.numel() * 4);
    ++rows;
  }
}

Table read_checked(TableSource& source, TableReadStats* stats, const detail::MissingCellCheck* missing) {
  // The rows are known (Parquet) or bounded (CSV lines) first, so the cells convert straight into one buffer
  // of the right size: no blocks to concatenate, no double-precision or per-column copy of the table.
  const int64_t capacity = source.row_count().value_or(source.row_upper_bound());
  const auto width = static_cast<int64_t>(source.columns().size());
  auto values = torch::empty({std::max<int64_t>(capacity, 1), width});
  int64_t largest = values.numel() * 4;
  Table table;
  table.ids = TextColumns{source.id_columns(), std::vector<std::vector<std::string>>(source.id_columns().size())};
  const int64_t rows = fill_rows(source, values, table.ids, largest, missing);
  if (rows == 0) throw InputError(source.name() + ": no data rows after the header");
  // Fewer rows than bounded (quoted line breaks, blank lines): the tail's pages go back, the buffer stays owned.
  table.values = keep_leading(std::move(values), {rows, width});
  table.columns = source.columns();
  table.source = source.name();
  if (stats) *stats = TableReadStats{rows, width, largest};
  return table;
}

}  // namespace

Table read_table(TableSource& source, TableReadStats* stats) { return read_checked(source, stats, nullptr); }

Table read_table(const std::string& path_or_glob, const TableReadOptions& options, const CsvColumnRoles& roles,
                 TableReadStats* stats) {
  auto source = open_table_source(path_or_glob, options, roles);
  const detail::MissingCellCheck missing(source->columns(), roles, source->name(), options);
  return read_checked(*source, stats, missing.active() ? &missing : nullptr);
}

}  // namespace safetrain::data
