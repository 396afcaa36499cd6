// CSV (and .csv.gz, .csv.zst) through Arrow's CSV parser (arrow::csv::BlockParser): RFC 4180 quoting
// (delimiters, doubled quotes and line breaks inside quotes), CRLF, empty lines. The text streams in 1 MB
// reads, a few of them at a time parsed in parallel (csv_blocks.hpp); each piece's cells of the used columns
// are converted by cell_parse.hpp into a float32 block, so a cell means the same in every format and a
// refused one is named by file:line:column.
// Arrow's StreamingReader was not used: it reads up to 32 blocks ahead on a background thread and builds
// string arrays of every cell, which put the load peak ~90 MB over the data on a 20 MB table (LoadOnce).
#include <arrow/csv/api.h>

#include <algorithm>
#include <utility>

#include "arrow_status.hpp"
#include "cell_parse.hpp"
#include "csv_blocks.hpp"
#include "csv_text.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/common/text.hpp"
#include "table_formats.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

constexpr int64_t kReadBytes = 1 << 20;      // text read per step
// Text parsed at once (cut into a few pieces per thread) is 1/64 of the file within [1 MB, 16 MB]: every
// batch ends by waiting for its last piece, and a 400 MB file in 1 MB batches waited at 400 such joins; a
// batch held beside the table stays a small part of it (8 MB batches put a 27 MB table's load peak at 1.29x
// the data, 1 MB at 1.20x).
constexpr int64_t kMinBatchBytes = 1 << 20, kMaxBatchBytes = 16 << 20;
constexpr int64_t kMaxRowBytes = 16 << 20;   // the longest row (or quoted field) accepted: an unclosed quote
                                             // would otherwise buffer the whole file


struct Dialect {
  char delimiter = ',';
  char quote = '"';  // '\0': no quoting
  char decimal = '.';
};

char delimiter_of(const fs::path& first_file, const std::string& delimiter, char quote) {
  if (delimiter == "auto") return sniff_delimiter(read_csv_head(first_file, kReadBytes), quote);
  if (delimiter == "tab" || delimiter == "\\t") return '\t';
  if (delimiter.size() != 1 || delimiter[0] == '\n' || delimiter[0] == '\r' || delimiter[0] == quote) {
    throw InputError("data.csv.delimiter: '" + delimiter + "' is not one character (auto, tab, ',', ';', ...)");
  }
  return delimiter[0];
}

Dialect dialect_of(const fs::path& first_file, const CsvDialect& options) {
  Dialect d;
  if (options.quote.size() > 1) throw InputError("data.csv.quote: '" + options.quote + "' is not one character");
  d.quote = options.quote.empty() ? '\0' : options.quote[0];
  d.delimiter = delimiter_of(first_file, options.delimiter, d.quote);
  if (options.decimal != "." && options.decimal != ",") {
    throw InputError("data.csv.decimal: '" + options.decimal + "' is not . or ,");
  }
  d.decimal = options.decimal[0];
  if (d.decimal == d.delimiter) {
    throw InputError(first_file.string() + ": data.csv.decimal is '" + options.decimal +
                     "', the file's delimiter too (name another in data.csv.delimiter, e.g. ';')");
  }
  return d;
}

// pandas' DataFrame.to_csv writes the row index first, under an empty name: it is named as pandas reads it
// back ("Unnamed: 0"), so data.id_columns can carry it, and is never a feature unless asked for.
constexpr const char* kUnnamedIndex = "Unnamed: 0";

// The header's names as the config names them: without the blanks around them ("a, b, y" is written to be
// read as a, b and y, as the cells' blanks are not part of their numbers), the unnamed index named.
std::vector<std::string> tidy_header(std::vector<std::string> header) {
  for (auto& name : header) name = column_name_of(name);
  if (header.size() > 1 && header[0].empty()) header[0] = kUnnamedIndex;
  return header;
}

void check_header(const std::vector<std::string>& header, const fs::path& path) {
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string where = path.string() + ":1:" + std::to_string(c + 1) + ": ";
    if (header[c].empty()) {
      const bool last = c + 1 == header.size();
      throw InputError(where + "empty column name in the header" + (last ? " (a delimiter at the end of the line?)" : ""));
    }
    const auto first = std::find(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(c), header[c]);
    if (first != header.begin() + static_cast<std::ptrdiff_t>(c)) {
      throw InputError(where + "column name '" + header[c] + "' repeats column " +
                       std::to_string(first - header.begin() + 1));
    }
  }
}

// The header line's bytes, before Arrow parses the first block: a NUL (a UTF-16 file, binary data) or a name
// that is not UTF-8 is named by its column here; Arrow would report a later symptom.
void check_header_bytes(const fs::path& file, char delimiter) {
  std::string line = read_csv_head(file, kReadBytes);
  line = line.substr(0, line.find('\n'));
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  const auto column_at = [&](size_t offset) {
    return std::to_string(1 + std::count(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(offset), delimiter));
  };
  const std::string where = file.string() + ":1:";
  if (const size_t nul = line.find('\0'); nul != std::string::npos) {
    throw InputError(where + column_at(nul) +
                     ": NUL byte in the header (binary data or a UTF-16 file; save the table as UTF-8 text)");
  }
  if (const size_t bad = text::invalid_utf8_offset(line); bad != std::string::npos) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(line[bad]));
    throw InputError(where + column_at(bad) + ": column name is not valid UTF-8 (byte " + byte +
                     "); save the table as UTF-8");
  }
}

class CsvSource final : public TableSource {
 public:
  CsvSource(const std::string& pattern, const TableReadOptions& options, const CsvColumnRoles& roles);
  std::optional<int64_t> row_count() const override { return std::nullopt; }
  int64_t row_upper_bound() const override;
  int64_t read_rows(float* out, int64_t max_rows, TextColumns* ids) override;
  void rewind() override { open_file(0); }
  std::unique_ptr<TableSource> with_columns(const std::vector<std::string>& numeric_columns) const override;

 private:
  arrow::csv::ParseOptions parse_options() const;
  std::unique_ptr<CsvBlocks> open_blocks(size_t index);
  void classify(const CsvColumnRoles& roles);
  void open_file(size_t index);
  bool next_pieces();  // the next parsed pieces into staged_; false after the last file
  void refuse_stopped_piece() const;
  // Arrow's refusal named by file and line (`bad_row`: the row of the wrong width behind it, if any).
  [[noreturn]] void refuse(const arrow::Status& status, const CsvBadRow* bad_row, int64_t rows_before,
                           bool row_too_long) const;

  TableReadOptions options_;  // as opened: a projection opens the same files the same way
  Dialect dialect_;
  std::vector<std::string> header_;
  CsvColumnsWanted wanted_;  // header positions of columns_ and id_columns_
  size_t file_index_ = 0;
  std::unique_ptr<CsvBlocks> blocks_;
  std::vector<CsvPiece> staged_;  // parsed, not yet all read
  size_t piece_ = 0;              // the staged piece being read, and its rows read
  int64_t piece_offset_ = 0;
  int64_t file_rows_ = 0;  // data rows of the file before staged_
  int64_t batch_bytes_ = kMinBatchBytes;  // text parsed at once when several threads parse
  ReaderThreads threads_;  // the parsing threads
};

CsvSource::CsvSource(const std::string& pattern, const TableReadOptions& options, const CsvColumnRoles& roles)
    : options_(options) {
  name_ = pattern;
  files_ = expand_glob(pattern);
  dialect_ = dialect_of(files_[0], options.csv);
  wanted_.decimal = dialect_.decimal;
  check_header_bytes(files_[0], dialect_.delimiter);
  blocks_ = open_blocks(0);
  header_ = tidy_header(blocks_->header());
  check_header(header_, files_[0]);
  classify(roles);
  open_file(0);
}

std::unique_ptr<TableSource> CsvSource::with_columns(const std::vector<std::string>& numeric_columns) const {
  positions_of(numeric_columns);  // refuses a name this source does not read
  auto projected = std::make_unique<CsvSource>(name_, options_, projection_roles(numeric_columns));
  // Opened in header order; the cells are converted in the order asked for.
  const auto order = projected->positions_of(numeric_columns);
  projected->columns_ = numeric_columns;
  projected->wanted_.numeric_at = picked(projected->wanted_.numeric_at, order);
  projected->set_batch_rows(batch_rows_);
  return projected;
}

arrow::csv::ParseOptions CsvSource::parse_options() const {
  auto parse = arrow::csv::ParseOptions::Defaults();
  parse.delimiter = dialect_.delimiter;
  parse.quoting = dialect_.quote != '\0';
  parse.quote_char = dialect_.quote == '\0' ? '"' : dialect_.quote;
  parse.newlines_in_values = true;
  return parse;
}

std::unique_ptr<CsvBlocks> CsvSource::open_blocks(size_t index) {
  file_index_ = index;
  auto blocks = std::make_unique<CsvBlocks>(files_[index], parse_options(), kReadBytes, kMaxRowBytes);
  if (!blocks->status().ok()) refuse(blocks->status(), nullptr, 0, blocks->row_too_long());
  if (blocks->header().empty()) {
    throw InputError(files_[index].string() + ": empty file (expected a header line of column names)");
  }
  return blocks;
}

void CsvSource::classify(const CsvColumnRoles& roles) {
  check_roles_present(roles, header_, files_[0]);
  auto first_row = blocks_->first_row();
  first_row.resize(header_.size());
  for (size_t c = 0; c < header_.size(); ++c) {
    const auto& name = header_[c];
    const bool required = is_required_numeric(roles, name);
    if (contains_name(roles.id_columns, name)) {
      id_columns_.push_back(name);
      wanted_.id_at.push_back(static_cast<int32_t>(c));
    } else if (contains_name(roles.ignore_columns, name) || (roles.only_numeric && !required)) {
      continue;
    } else if (!required && c == 0 && name == kUnnamedIndex && column_name_of(blocks_->header()[0]).empty()) {
      note_once("data: the first column of " + files_[0].string() + " has no name (the row index pandas' to_csv " +
                "writes): skipped; list '" + kUnnamedIndex + "' in data.id_columns to carry it into predictions");
    } else if (!required && looks_like_text(first_row[c], dialect_.decimal)) {
      note_once("data: column '" + name + "' of " + files_[0].string() + " is not numeric ('" + first_row[c] +
                "' in the first row): skipped; list it in data.id_columns to carry it into predictions");
    } else {
      columns_.push_back(name);
      wanted_.numeric_at.push_back(static_cast<int32_t>(c));
    }
  }
}

void CsvSource::open_file(size_t index) {
  blocks_.reset();
  staged_.clear();
  piece_ = 0;
  piece_offset_ = file_rows_ = 0;
  file_index_ = index;
  if (index >= files_.size()) return;
  if (index > 0) check_header_bytes(files_[index], dialect_.delimiter);
  blocks_ = open_blocks(index);
  std::error_code no_size;  // an unknown size (a pipe) reads in the smallest batches
  const auto file_bytes = static_cast<int64_t>(fs::file_size(files_[index], no_size));
  const int64_t whole_reads = (no_size ? 0 : file_bytes / 64) / kReadBytes * kReadBytes;  // text_ grows by reads
  batch_bytes_ = std::clamp<int64_t>(whole_reads, kMinBatchBytes, kMaxBatchBytes);
  if (index > 0) check_same_columns(header_, tidy_header(blocks_->header()), files_[0], files_[index]);
}

bool CsvSource::next_pieces() {
  // As many threads parse as torch's intra-op setting (the trainer's `threads`) says (ReaderThreads).
  const int64_t batch_bytes = threads_.refresh() > 1 ? batch_bytes_ : kReadBytes;
  while (blocks_) {
    throw_if_stop_requested(("while reading " + name_).c_str());
    for (const auto& piece : staged_) file_rows_ += piece.rows;
    staged_ = blocks_->next(wanted_, threads_, batch_bytes);
    piece_ = 0;
    piece_offset_ = 0;
    if (!staged_.empty()) {
      refuse_stopped_piece();
      return true;
    }
    if (!blocks_->status().ok()) refuse(blocks_->status(), nullptr, file_rows_, blocks_->row_too_long());
    open_file(file_index_ + 1);
  }
  return false;
}

// The first piece that stopped on a refused cell or row, named by file:line:column.
void CsvSource::refuse_stopped_piece() const {
  int64_t rows_before = file_rows_;
  for (const auto& piece : staged_) {
    if (piece.bad_cell.row >= 0) {
      const auto& file = files_[file_index_];
      const auto& bad = piece.bad_cell;
      throw InputError(file.string() + ":" + std::to_string(line_of_row(file, dialect_.quote, rows_before + bad.row)) +
                       ":" + std::to_string(wanted_.numeric_at[bad.column] + 1) + ": " +
                       cell_error_text(bad.error, bad.text, columns_[bad.column], dialect_.decimal));
    }
    if (!piece.status.ok()) refuse(piece.status, &piece.bad_row, rows_before, false);
    rows_before += piece.rows;
  }
}

int64_t CsvSource::read_rows(float* out, int64_t max_rows, TextColumns* ids) {
  const auto width = static_cast<int64_t>(columns_.size());
  int64_t done = 0;
  while (done < max_rows) {
    while (piece_ < staged_.size() && piece_offset_ >= staged_[piece_].rows) {
      ++piece_;
      piece_offset_ = 0;
    }
    if (piece_ >= staged_.size()) {
      if (!next_pieces()) break;
      continue;
    }
    const auto& piece = staged_[piece_];
    const int64_t rows = std::min(max_rows - done, piece.rows - piece_offset_);
    std::copy_n(piece.values.data() + piece_offset_ * width, rows * width, out + done * width);
    for (size_t k = 0; ids && k < piece.ids.size(); ++k) {
      const auto from = piece.ids[k].begin() + piece_offset_;
      ids->values[k].insert(ids->values[k].end(), from, from + rows);
    }
    piece_offset_ += rows;
    done += rows;
  }
  return done;
}

int64_t CsvSource::row_upper_bound() const {
  int64_t rows = 0;
  for (const auto& file : files_) rows += count_data_lines(file);
  return rows;
}

void CsvSource::refuse(const arrow::Status& status, const CsvBadRow* bad_row, int64_t rows_before,
                       bool row_too_long) const {
  const auto& file = files_[file_index_];
  if (row_too_long) {
    throw InputError(file.string() + ": a row or quoted field longer than " + std::to_string(kMaxRowBytes >> 20) +
                     " MB (an unclosed quote, or not a text table; data.csv.quote sets the quote character)");
  }
  if (status.message().find("Empty CSV") != std::string::npos) {
    throw InputError(file.string() + ": empty file (expected a header line of column names)");
  }
  if (bad_row && bad_row->row >= 0) {
    throw InputError(file.string() + ":" + std::to_string(line_of_row(file, dialect_.quote, rows_before + bad_row->row)) +
                     ": expected " + std::to_string(bad_row->expected_columns) + " cells (as in the header), found " +
                     std::to_string(bad_row->actual_columns) + ": '" + bad_row->text + "'");
  }
  check_arrow(status, file.string());
  throw InputError(file.string() + ": " + status.message());
}

}  // namespace

std::unique_ptr<TableSource> open_csv_source(const std::string& pattern, const TableReadOptions& options,
                                             const CsvColumnRoles& roles) {
  return std::make_unique<CsvSource>(pattern, options, roles);
}

}  // namespace safetrain::data
