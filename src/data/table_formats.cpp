// The registry of table formats: a new format is one file (its TableSource) plus one line here.
#include <algorithm>

#include "safetrain/common/error.hpp"
#include "table_formats.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

struct FormatEntry {
  TableFormat format;
  std::vector<std::string> extensions;  // what a file name ends with, lower case
  std::unique_ptr<TableSource> (*open)(const std::string&, const TableReadOptions&, const CsvColumnRoles&);
};

const std::vector<FormatEntry>& formats() {
  static const std::vector<FormatEntry> entries = {
      {TableFormat::csv, {".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".csv.zst", ".csv.zstd"}, &open_csv_source},
      {TableFormat::parquet, {".parquet", ".pq", ".parq"}, &open_parquet_source},
  };
  return entries;
}


}  // namespace

TableFormat table_format_of(const fs::path& path, TableFormat requested) {
  if (requested != TableFormat::automatic) return requested;
  std::string name = path.filename().string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
  std::string known;
  for (const auto& entry : formats()) {
    for (const auto& extension : entry.extensions) {
      if (name_ends_with(name, extension)) return entry.format;
      known += (known.empty() ? "" : ", ") + extension;
    }
  }
  throw InputError(path.string() + ": unknown table format (the file name ends in none of " + known +
                   "); set data.format (csv or parquet)");
}

std::unique_ptr<TableSource> open_table_source(const std::string& path_or_glob, const TableReadOptions& options,
                                               const CsvColumnRoles& roles) {
  const auto files = expand_glob(path_or_glob);
  const auto format = table_format_of(files.front(), options.format);
  for (const auto& file : files) {
    if (table_format_of(file, options.format) == format) continue;
    throw InputError(file.string() + ": another format than " + files.front().string() +
                     " in the same glob; one input is one format");
  }
  for (const auto& entry : formats()) {
    if (entry.format == format) return entry.open(path_or_glob, options, roles);
  }
  throw std::logic_error("table format without a reader");
}

}  // namespace safetrain::data
