#include "safetrain/data/csv_reader.hpp"

#include <glob.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/data/owned_rows.hpp"

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

const std::string kUtf8Bom = "\xEF\xBB\xBF";

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

// True when the whole cell reads as a number (whatever its magnitude); the sign of text columns.
bool parses_as_number(std::string_view cell) {
  if (is_missing(cell)) return true;
  double value = 0;
  const bool plus = cell.front() == '+' && (cell.size() < 2 || (cell[1] != '-' && cell[1] != '+'));
  const char* begin = cell.data() + (plus ? 1 : 0);
  const auto [end, error] = std::from_chars(begin, cell.data() + cell.size(), value);
  return end == cell.data() + cell.size() && (error == std::errc() || error == std::errc::result_out_of_range);
}

// Parses one numeric cell; InputError at `where` for text and for values float32 cannot hold.
float parse_cell(std::string_view cell, const std::string& where, const std::string& column) {
  if (is_missing(cell)) return std::numeric_limits<float>::quiet_NaN();
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

// Words, IDs and SMILES strings have letters; a malformed number ("1.2.3", "1;2") does not and stays an error.
bool looks_like_text(std::string_view cell) {
  if (parses_as_number(cell)) return false;
  return std::any_of(cell.begin(), cell.end(), [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); });
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
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

CsvBatchReader::CsvBatchReader(const std::string& path_or_glob, int64_t batch_rows, CsvColumnRoles roles)
    : pattern_(path_or_glob),
      batch_rows_(std::max<int64_t>(1, batch_rows)),
      files_(expand_glob(path_or_glob)),
      roles_(std::move(roles)) {
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
  // A UTF-8 byte-order mark would otherwise become part of the first column's name (a target leak).
  if (line_.rfind(kUtf8Bom, 0) == 0) line_.erase(0, kUtf8Bom.size());
  refuse_nul(line_, path.string() + ":1");
  auto header = header_of(line_);
  refuse_invalid_utf8(header, path);
  if (index > 0) {
    if (header != header_) check_same_header(header, path);
    return true;
  }
  header_ = std::move(header);
  check_first_header(path);
  std::string first_row;
  while (read_line(file_.get(), first_row)) {
    ++line_number_;
    refuse_nul(first_row, path.string() + ":" + std::to_string(line_number_));
    if (trim(first_row).empty()) continue;
    line_ = first_row;
    pending_line_ = true;
    break;
  }
  classify_columns(pending_line_ ? line_ : std::string());
  return true;
}

void CsvBatchReader::check_first_header(const fs::path& path) const {
  for (size_t c = 0; c < header_.size(); ++c) {
    if (header_[c].empty()) {
      throw InputError(path.string() + ":1:" + std::to_string(c + 1) + ": empty column name in the header");
    }
    const auto first = std::find(header_.begin(), header_.begin() + static_cast<std::ptrdiff_t>(c), header_[c]);
    if (first != header_.begin() + static_cast<std::ptrdiff_t>(c)) {
      throw InputError(path.string() + ":1:" + std::to_string(c + 1) + ": column name '" + header_[c] +
                       "' repeats column " + std::to_string(first - header_.begin() + 1));
    }
  }
}

void CsvBatchReader::check_same_header(const std::vector<std::string>& header, const fs::path& path) const {
  size_t c = 0;
  while (c < header.size() && c < header_.size() && header[c] == header_[c]) ++c;
  throw InputError(path.string() + ":1:" + std::to_string(c + 1) + ": header differs from " + files_[0].string() +
                   " (column " + std::to_string(c + 1) + ": '" + (c < header.size() ? header[c] : "<none>") +
                   "' vs '" + (c < header_.size() ? header_[c] : "<none>") + "')");
}

void CsvBatchReader::classify_columns(const std::string& first_row) {
  for (const auto* list : {&roles_.id_columns, &roles_.ignore_columns}) {
    for (const auto& name : *list) {
      if (contains(header_, name)) continue;
      throw InputError(std::string(list == &roles_.id_columns ? "data.id_columns" : "data.ignore_columns") +
                       ": column '" + name + "' is not in " + files_[0].string());
    }
  }
  const auto cells = split_cells(first_row);
  for (size_t c = 0; c < header_.size(); ++c) {
    const auto& name = header_[c];
    Kind kind = Kind::numeric;
    const bool required = contains(roles_.numeric, name) ||
                          (!roles_.numeric_prefix.empty() && name.rfind(roles_.numeric_prefix, 0) == 0);
    if (contains(roles_.id_columns, name)) kind = Kind::id;
    else if (contains(roles_.ignore_columns, name) || (roles_.only_numeric && !required)) kind = Kind::skip;
    else if (c < cells.size() && looks_like_text(cells[c]) && !required) {
      // Neither a target nor a listed feature, and text in row 1: an ID or a SMILES string, not an input.
      kind = Kind::skip;
      log::info("data: column '", name, "' of ", files_[0].string(), " is not numeric ('", std::string(cells[c]),
                "' in the first row): skipped; list it in data.id_columns to carry it into predictions");
    }
    kinds_.push_back(kind);
    if (kind == Kind::numeric) columns_.push_back(name);
    if (kind == Kind::id) ids_.names.push_back(name);
  }
}

bool CsvBatchReader::next_line() {
  if (std::exchange(pending_line_, false)) return true;
  while (file_) {
    if (!read_line(file_.get(), line_)) {
      open_file(file_index_ + 1);
      continue;
    }
    ++line_number_;
    refuse_nul(line_, files_[file_index_].string() + ":" + std::to_string(line_number_));
    if (!trim(line_).empty()) return true;  // blank lines (e.g. a trailing one) carry no row
  }
  return false;
}

void CsvBatchReader::parse_row(int64_t width, float* cells, TextColumns& ids) const {
  const auto parts = split_cells(line_);
  const std::string where = files_[file_index_].string() + ":" + std::to_string(line_number_);
  if (static_cast<int64_t>(parts.size()) != width) {
    throw InputError(where + ": expected " + std::to_string(width) + " cells (as in the header), found " +
                     std::to_string(parts.size()));
  }
  size_t id = 0, out = 0;
  for (int64_t c = 0; c < width; ++c) {
    const auto cell = parts[static_cast<size_t>(c)];
    const Kind kind = kinds_[static_cast<size_t>(c)];
    if (kind == Kind::skip) continue;
    if (kind == Kind::id) {
      ids.values[id++].emplace_back(cell);
      continue;
    }
    cells[out++] = parse_cell(cell, where + ":" + std::to_string(c + 1), header_[static_cast<size_t>(c)]);
  }
}

std::optional<Table> CsvBatchReader::next_batch() {
  throw_if_stop_requested(("while reading " + pattern_).c_str());
  const auto width = static_cast<int64_t>(columns_.size());
  auto values = torch::empty({batch_rows_, width});
  TextColumns ids{ids_.names, std::vector<std::vector<std::string>>(ids_.names.size())};
  int64_t rows = 0;
  while (rows < batch_rows_ && read_row(values.data_ptr<float>() + rows * width, ids)) ++rows;
  if (rows == 0) return std::nullopt;
  Table batch;
  batch.columns = columns_;
  batch.source = pattern_;
  batch.values = rows == batch_rows_ ? std::move(values) : values.narrow(0, 0, rows).clone();
  batch.ids = std::move(ids);
  return batch;
}

bool CsvBatchReader::read_row(float* out, TextColumns& ids) {
  if (!next_line()) return false;
  parse_row(static_cast<int64_t>(header_.size()), out, ids);
  return true;
}

void CsvBatchReader::rewind() {
  kinds_.clear();
  columns_.clear();
  ids_.names.clear();
  pending_line_ = false;
  open_file(0);
}

int64_t count_data_lines(const fs::path& file) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "r"), &std::fclose);
  if (!in) throw InputError(file.string() + ": cannot open for reading");
  std::vector<char> chunk(size_t{1} << 20);
  int64_t lines = 0;
  bool content = false;  // the current line has a cell character (blank lines carry no row)
  for (size_t n; (n = std::fread(chunk.data(), 1, chunk.size(), in.get())) > 0;) {
    for (size_t i = 0; i < n; ++i) {
      const char ch = chunk[i];
      if (ch == '\n') {
        lines += content ? 1 : 0;
        content = false;
      } else if (ch != ' ' && ch != '\t' && ch != '\r') {
        content = true;
      }
    }
  }
  lines += content ? 1 : 0;
  return std::max<int64_t>(0, lines - 1);  // the header
}

Table read_csv(const std::string& path_or_glob, const CsvColumnRoles& roles, CsvReadStats* stats) {
  CsvBatchReader reader(path_or_glob, 1, roles);
  // A cheap first pass counts the rows, so the cells parse straight into one buffer of the right size: no
  // blocks to concatenate, no double-precision or per-column copy of the table.
  int64_t capacity = 0;
  for (const auto& file : reader.files()) capacity += count_data_lines(file);
  const auto width = static_cast<int64_t>(reader.columns().size());
  auto values = torch::empty({std::max<int64_t>(capacity, 1), width});
  int64_t largest = values.numel() * 4;
  Table table;
  table.ids = TextColumns{reader.id_columns(), std::vector<std::vector<std::string>>(reader.id_columns().size())};
  int64_t rows = 0;
  std::vector<float> spare(static_cast<size_t>(width));  // a row past the count, if the files grew since
  for (;; ++rows) {
    if ((rows & 0xFFFF) == 0) throw_if_stop_requested(("while reading " + path_or_glob).c_str());
    if (rows < values.size(0)) {
      if (!reader.read_row(values.data_ptr<float>() + rows * width, table.ids)) break;
      continue;
    }
    if (!reader.read_row(spare.data(), table.ids)) break;
    auto grown = torch::empty({rows + rows / 2 + 1024, width});  // rare: grow by half
    grown.narrow(0, 0, rows).copy_(values);
    std::copy(spare.begin(), spare.end(), grown.data_ptr<float>() + rows * width);
    values = std::move(grown);
    largest = std::max<int64_t>(largest, values.numel() * 4);
  }
  if (rows == 0) throw InputError(path_or_glob + ": no data rows after the header");
  // Fewer rows than counted (a line of only quotes): the tail's pages go back, the buffer stays owned.
  table.values = keep_leading(std::move(values), {rows, width});
  table.columns = reader.columns();
  table.source = path_or_glob;
  if (stats) *stats = CsvReadStats{rows, width, largest};
  return table;
}

}  // namespace safetrain::data
