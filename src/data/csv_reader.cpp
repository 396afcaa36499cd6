#include "safetrain/data/csv_reader.hpp"

#include <glob.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>

#include "safetrain/common/error.hpp"
#include "safetrain/common/text.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

const std::string kUtf8Bom = "\xEF\xBB\xBF";

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

// One line without its "\n" / "\r\n", NUL bytes included (fgets would stop at them and lose the
// rest of the line silently).
bool read_line(std::FILE* file, std::string& line) {
  char* raw = nullptr;
  size_t capacity = 0;
  const ssize_t length = ::getline(&raw, &capacity, file);
  const std::unique_ptr<char, decltype(&std::free)> owned(raw, &std::free);
  if (length < 0) return false;
  line.assign(raw, static_cast<size_t>(length));
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

// 1-based cell number of byte `offset` in `line`.
size_t cell_of(const std::string& line, size_t offset) {
  return 1 + static_cast<size_t>(std::count(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(offset), ','));
}

void refuse_nul(const std::string& line, const std::string& where) {
  const size_t nul = line.find('\0');
  if (nul == std::string::npos) return;
  throw InputError(where + ":" + std::to_string(cell_of(line, nul)) +
                   ": NUL byte in the line (binary data or a UTF-16 file; save the CSV as UTF-8 text)");
}

// Parses one numeric cell; InputError at `where` for text and for values float32 cannot hold.
float parse_cell(std::string_view cell, const std::string& where, const std::string& column) {
  double value = 0;
  // from_chars rejects a leading '+', which CSV writers do emit; skip one, but never before a sign ("+-1").
  const bool plus = cell.front() == '+' && (cell.size() < 2 || (cell[1] != '-' && cell[1] != '+'));
  const char* begin = cell.data() + (plus ? 1 : 0);
  const auto [end, error] = std::from_chars(begin, cell.data() + cell.size(), value);
  if (end != cell.data() + cell.size() || (error != std::errc() && error != std::errc::result_out_of_range)) {
    throw InputError(where + ": column '" + column + "': '" + std::string(cell) + "' is not a number");
  }
  // from_chars reports an underflow (1e-400) as out of range too: that is a zero, not an error.
  const std::string_view digits(begin, static_cast<size_t>(end - begin));
  const bool underflow = error == std::errc::result_out_of_range &&
                         (digits.find("e-") != std::string_view::npos || digits.find("E-") != std::string_view::npos);
  if (underflow) return 0.0f;
  // inf, nan spelt as a number, and anything beyond float32 would poison the training (loss inf/nan).
  if (error == std::errc::result_out_of_range || !std::isfinite(value) ||
      std::abs(value) > static_cast<double>(std::numeric_limits<float>::max())) {
    throw InputError(where + ": column '" + column + "': '" + std::string(cell) +
                     "' is not a finite 32-bit number (the limit is +-3.4e38; write NA for a missing value)");
  }
  return static_cast<float>(value);
}

void refuse_invalid_utf8(const std::vector<std::string>& names, const fs::path& path) {
  for (size_t c = 0; c < names.size(); ++c) {
    const size_t bad = text::invalid_utf8_offset(names[c]);
    if (bad == std::string::npos) continue;
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(names[c][bad]));
    throw InputError(path.string() + ":1:" + std::to_string(c + 1) + ": column name is not valid UTF-8 (byte " +
                     byte + " at offset " + std::to_string(bad) + "); save the CSV as UTF-8");
  }
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
  // A UTF-8 byte-order mark would otherwise become part of the first column's name.
  if (line_.rfind(kUtf8Bom, 0) == 0) line_.erase(0, kUtf8Bom.size());
  refuse_nul(line_, path.string() + ":1");
  auto header = header_of(line_);
  refuse_invalid_utf8(header, path);
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
    const std::string where = files_[file_index_].string() + ":" + std::to_string(line_number_);
    refuse_nul(line_, where);
    if (trim(line_).empty()) continue;  // blank lines (e.g. a trailing one) carry no row
    const auto parts = split_cells(line_);
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
      cells.push_back(parse_cell(cell, where + ":" + std::to_string(c + 1), columns_[static_cast<size_t>(c)]));
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
