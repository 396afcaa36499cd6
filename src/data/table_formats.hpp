#pragma once
// Inside the table layer: each format's opener (one file each) and the checks every format shares.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "safetrain/data/table_source.hpp"

namespace safetrain::data {

std::unique_ptr<TableSource> open_csv_source(const std::string& pattern, const TableReadOptions& options,
                                             const CsvColumnRoles& roles);
std::unique_ptr<TableSource> open_parquet_source(const std::string& pattern, const TableReadOptions& options,
                                                 const CsvColumnRoles& roles);

// What a projection (TableSource::with_columns) opens the same files with: these numeric columns, no others,
// no id columns.
CsvColumnRoles projection_roles(const std::vector<std::string>& numeric_columns);

// `values` at `positions`, in that order: a source's per-column lists put in a projection's order.
template <class T>
std::vector<T> picked(const std::vector<T>& values, const std::vector<int64_t>& positions) {
  std::vector<T> out;
  out.reserve(positions.size());
  for (const int64_t p : positions) out.push_back(values[static_cast<size_t>(p)]);
  return out;
}

bool contains_name(const std::vector<std::string>& names, const std::string& name);
bool name_ends_with(const std::string& name, const std::string& tail);

// Logs a note about the table ("data: column 'name' of rows.csv is not numeric ...: skipped"), once per
// process: the forecast, the load and the pruner's projections each open the same table.
void note_once(const std::string& text);

// A target or a listed feature: text there is an error, not a skipped column.
bool is_required_numeric(const CsvColumnRoles& roles, const std::string& name);

// InputError when data.id_columns or data.ignore_columns names a column `file` does not have.
void check_roles_present(const CsvColumnRoles& roles, const std::vector<std::string>& header,
                         const std::filesystem::path& file);

// InputError naming both files and the first column where `other`'s columns differ from `first`'s.
void check_same_columns(const std::vector<std::string>& first, const std::vector<std::string>& other,
                        const std::filesystem::path& first_file, const std::filesystem::path& other_file);

}  // namespace safetrain::data
