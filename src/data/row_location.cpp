#include "row_location.hpp"

#include <filesystem>
#include <limits>
#include <vector>

#include "csv_text.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;

namespace safetrain::data::detail {
namespace {

// The header's names, split on the delimiter outside quotes (doubled quotes stay one quote).
std::vector<std::string> header_names(const fs::path& file, const CsvDialect& dialect) {
  const char quote = dialect.quote.empty() ? '\0' : dialect.quote[0];
  std::string head = read_csv_head(file, int64_t{1} << 20);
  if (head.rfind("\xEF\xBB\xBF", 0) == 0) head.erase(0, 3);
  const char delimiter = dialect.delimiter == "auto" ? sniff_delimiter(head, quote) : dialect.delimiter[0];
  std::vector<std::string> names(1);
  bool quoted = false;
  for (size_t i = 0; i < head.size(); ++i) {
    const char ch = head[i];
    if (quote != '\0' && ch == quote) {
      if (quoted && i + 1 < head.size() && head[i + 1] == quote) names.back() += head[++i];
      else quoted = !quoted;
    } else if (!quoted && (ch == '\n' || ch == '\r')) {
      break;
    } else if (!quoted && ch == delimiter) {
      names.emplace_back();
    } else {
      names.back() += ch;
    }
  }
  for (auto& name : names) name = column_name_of(name);
  return names;
}

std::string csv_cell(const fs::path& file, int64_t row, const std::string& column, const CsvDialect& dialect) {
  const char quote = dialect.quote.empty() ? '\0' : dialect.quote[0];
  const auto names = header_names(file, dialect);
  std::string at = file.string() + ":" + std::to_string(line_of_row(file, quote, row));
  for (size_t c = 0; c < names.size(); ++c) {
    if (names[c] == column) return at + ":" + std::to_string(c + 1) + " (column '" + column + "')";
  }
  return at + " (column '" + column + "')";
}

}  // namespace

std::string cell_location(const std::string& source, int64_t row, const std::string& column,
                          const TableReadOptions& read) {
  const std::string fallback = source + ": row " + std::to_string(row) + " (from 0), column '" + column + "'";
  std::vector<fs::path> files;
  try {
    files = expand_glob(source);
  } catch (const InputError&) {
    return fallback;  // a generator, or a file gone since it was read
  }
  const char quote = read.csv.quote.empty() ? '\0' : read.csv.quote[0];
  for (size_t i = 0; i < files.size(); ++i) {
    const bool last = i + 1 == files.size();
    if (table_format_of(files[i], read.format) == TableFormat::csv) {
      const int64_t rows = last ? std::numeric_limits<int64_t>::max() : count_records(files[i], quote);
      if (row < rows) return csv_cell(files[i], row, column, read.csv);
      row -= rows;
      continue;
    }
    const auto rows = open_table_source(files[i].string(), read)->row_count();
    if (last || (rows && row < *rows)) {
      return files[i].string() + ": row " + std::to_string(row + 1) + " (of the data, from 1), column '" + column + "'";
    }
    row -= rows.value_or(0);
  }
  return fallback;
}

}  // namespace safetrain::data::detail
