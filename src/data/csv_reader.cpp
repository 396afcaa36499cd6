#include "safetrain/data/csv_reader.hpp"

#include <glob.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "safetrain/common/error.hpp"
#include "safetrain/common/stop_signals.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

bool is_missing(std::string_view cell) {
  return cell.empty() || cell == "NA" || cell == "na" || cell == "N/A" || cell == "nan" || cell == "NaN" ||
         cell == "NAN" || cell == "null";
}

bool read_line(std::FILE* file, std::string& line) {
  line.clear();
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, file)) {
    line += buffer;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
  }
  return !line.empty();
}

std::vector<std::string> header_of(const std::string& line) {
  std::vector<std::string> names;
  for (auto cell : split_cells(line)) names.emplace_back(cell);
  return names;
}

}  // namespace

int64_t column_index(const Table& table, const std::string& name) {
  const auto found = std::find(table.columns.begin(), table.columns.end(), name);
  return found == table.columns.end() ? -1 : found - table.columns.begin();
}

std::vector<fs::path> expand_glob(const std::string& pattern) {
  glob_t matches{};
  const int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches);
  std::vector<fs::path> files;
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) files.emplace_back(matches.gl_pathv[i]);
  }
  globfree(&matches);
  if (files.empty()) throw InputError(pattern + ": no such file (or no file matches the pattern)");
  std::sort(files.begin(), files.end());
  return files;
}

CsvBatchReader::CsvBatchReader(const std::string& path_or_glob, int64_t batch_rows)
    : pattern_(path_or_glob), batch_rows_(std::max<int64_t>(1, batch_rows)), files_(expand_glob(path_or_glob)) {
  open_file(0);
}

CsvBatchReader::~CsvBatchReader() = default;
CsvBatchReader::CsvBatchReader(CsvBatchReader&&) noexcept = default;
CsvBatchReader& CsvBatchReader::operator=(CsvBatchReader&&) noexcept = default;

bool CsvBatchReader::open_file(size_t index) {
  file_.reset();
  file_index_ = index;
  if (index >= files_.size()) return false;
  const fs::path& path = files_[index];
  file_.reset(std::fopen(path.c_str(), "r"));
  if (!file_) throw InputError(path.string() + ": cannot open for reading");
  line_number_ = 1;
  if (!read_line(file_.get(), line_) || trim(line_).empty()) {
    throw InputError(path.string() + ": empty file (expected a header line of column names)");
  }
  auto header = header_of(line_);
  if (index == 0) {
    columns_ = std::move(header);
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (columns_[c].empty()) {
        throw InputError(path.string() + ":1:" + std::to_string(c + 1) + ": empty column name in the header");
      }
      const auto first = std::find(columns_.begin(), columns_.begin() + static_cast<std::ptrdiff_t>(c), columns_[c]);
      if (first != columns_.begin() + static_cast<std::ptrdiff_t>(c)) {
        throw InputError(path.string() + ":1:" + std::to_string(c + 1) + ": column name '" + columns_[c] +
                         "' repeats column " + std::to_string(first - columns_.begin() + 1));
      }
    }
  } else if (header != columns_) {
    size_t c = 0;
    while (c < header.size() && c < columns_.size() && header[c] == columns_[c]) ++c;
    throw InputError(path.string() + ":1:" + std::to_string(c + 1) + ": header differs from " + files_[0].string() +
                     " (column " + std::to_string(c + 1) + ": '" + (c < header.size() ? header[c] : "<none>") +
                     "' vs '" + (c < columns_.size() ? columns_[c] : "<none>") + "')");
  }
  return true;
}

std::optional<Table> CsvBatchReader::next_batch() {
  throw_if_stop_requested(("while reading " + pattern_).c_str());
  const int64_t width = static_cast<int64_t>(columns_.size());
  std::vector<float> cells;
  cells.reserve(static_cast<size_t>(batch_rows_ * width));
  int64_t rows = 0;
  while (rows < batch_rows_ && file_) {
    if (!read_line(file_.get(), line_)) {
      open_file(file_index_ + 1);
      continue;
    }
    ++line_number_;
    if (trim(line_).empty()) continue;  // blank lines (e.g. a trailing one) carry no row
    const auto parts = split_cells(line_);
    const std::string where = files_[file_index_].string() + ":" + std::to_string(line_number_);
    if (static_cast<int64_t>(parts.size()) != width) {
      throw InputError(where + ": expected " + std::to_string(width) + " cells (as in the header), found " +
                       std::to_string(parts.size()));
    }
    for (int64_t c = 0; c < width; ++c) {
      const auto cell = parts[static_cast<size_t>(c)];
      if (is_missing(cell)) {
        cells.push_back(std::numeric_limits<float>::quiet_NaN());
        continue;
      }
      // Parsed as double, then narrowed: values beyond float range become +-inf and tiny ones 0, as in
      // a float cast, instead of from_chars' out-of-range error.
      double value = 0;
      // from_chars rejects a leading '+', which CSV writers do emit; skip one, but never before a sign ("+-1").
      const bool plus = cell.front() == '+' && (cell.size() < 2 || (cell[1] != '-' && cell[1] != '+'));
      const char* begin = cell.data() + (plus ? 1 : 0);
      const auto [end, error] = std::from_chars(begin, cell.data() + cell.size(), value);
      if (end != cell.data() + cell.size() || (error != std::errc() && error != std::errc::result_out_of_range)) {
        throw InputError(where + ":" + std::to_string(c + 1) + ": column '" + columns_[static_cast<size_t>(c)] +
                         "': '" + std::string(cell) + "' is not a number");
      }
      if (error == std::errc::result_out_of_range) {
        // Beyond even double: the exponent's sign says overflow (inf) or underflow (0).
        const bool tiny = std::string_view(begin, static_cast<size_t>(end - begin)).find("e-") != std::string_view::npos ||
                          std::string_view(begin, static_cast<size_t>(end - begin)).find("E-") != std::string_view::npos;
        const double magnitude = tiny ? 0.0 : std::numeric_limits<double>::infinity();
        value = *begin == '-' ? -magnitude : magnitude;
      }
      cells.push_back(static_cast<float>(value));
    }
    ++rows;
  }
  if (rows == 0) return std::nullopt;
  Table batch;
  batch.columns = columns_;
  batch.source = pattern_;
  batch.values = torch::from_blob(cells.data(), {rows, width}, torch::kFloat).clone();
  return batch;
}

void CsvBatchReader::rewind() { open_file(0); }

Table read_csv(const std::string& path_or_glob) {
  CsvBatchReader reader(path_or_glob, 65536);
  std::vector<torch::Tensor> parts;
  while (auto batch = reader.next_batch()) parts.push_back(std::move(batch->values));
  Table table;
  table.columns = reader.columns();
  table.source = path_or_glob;
  if (parts.empty()) {
    throw InputError(path_or_glob + ": no data rows after the header");
  }
  // Blocks then one concatenation: peak memory is about twice the final tensor, the text is never held whole.
  table.values = parts.size() == 1 ? std::move(parts.front()) : torch::cat(parts);
  return table;
}

}  // namespace safetrain::data
