// CSV (and .csv.gz, .csv.zst) through Arrow's streaming CSV reader: RFC 4180 quoting (delimiters, doubled
// quotes and line breaks inside quotes), CRLF, a UTF-8 byte-order mark, blocks parsed ahead on Arrow's
// threads. Every used column is read as text and converted by cell_parse.hpp, so a cell means the same in
// every format and a refused one is named by file:line:column.
#include <arrow/csv/api.h>

#include <algorithm>

#include "arrow_batch_source.hpp"
#include "cell_parse.hpp"
#include "csv_text.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/text.hpp"
#include "table_formats.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

// Arrow's block: the longest row (or quoted field) the reader accepts, and the text parsed per batch.
constexpr int32_t kBlockBytes = 4 << 20;


struct Dialect {
  char delimiter = ',';
  char quote = '"';  // '\0': no quoting
};

Dialect dialect_of(const fs::path& first_file, const CsvDialect& options) {
  Dialect d;
  if (options.quote.size() > 1) throw InputError("data.csv.quote: '" + options.quote + "' is not one character");
  d.quote = options.quote.empty() ? '\0' : options.quote[0];
  const auto& delimiter = options.delimiter;
  if (delimiter == "auto") return Dialect{sniff_delimiter(read_csv_head(first_file, kBlockBytes), d.quote), d.quote};
  if (delimiter == "tab" || delimiter == "\\t") return Dialect{'\t', d.quote};
  if (delimiter.size() != 1 || delimiter[0] == '\n' || delimiter[0] == '\r' || delimiter[0] == d.quote) {
    throw InputError("data.csv.delimiter: '" + delimiter + "' is not one character (auto, tab, ',', ';', ...)");
  }
  return Dialect{delimiter[0], d.quote};
}

void check_header(const std::vector<std::string>& header, const fs::path& path) {
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string where = path.string() + ":1:" + std::to_string(c + 1) + ": ";
    if (header[c].find('\0') != std::string::npos) {
      throw InputError(where + "NUL byte in the header (binary data or a UTF-16 file; save the table as UTF-8 text)");
    }
    const size_t bad = text::invalid_utf8_offset(header[c]);
    if (bad != std::string::npos) {
      char byte[8];
      std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(header[c][bad]));
      throw InputError(where + "column name is not valid UTF-8 (byte " + byte + " at offset " + std::to_string(bad) +
                       "); save the table as UTF-8");
    }
    if (header[c].empty()) throw InputError(where + "empty column name in the header");
    const auto first = std::find(header.begin(), header.begin() + static_cast<std::ptrdiff_t>(c), header[c]);
    if (first != header.begin() + static_cast<std::ptrdiff_t>(c)) {
      throw InputError(where + "column name '" + header[c] + "' repeats column " +
                       std::to_string(first - header.begin() + 1));
    }
  }
}

class CsvSource final : public ArrowBatchSource {
 public:
  CsvSource(const std::string& pattern, const TableReadOptions& options, const CsvColumnRoles& roles);
  std::optional<int64_t> row_count() const override { return std::nullopt; }
  int64_t row_upper_bound() const override;

 private:
  std::shared_ptr<arrow::RecordBatch> next_record_batch() override;
  void restart() override { open_file(0); }
  std::string cell_location(int64_t row_in_file, const std::string& column) const override;
  std::shared_ptr<arrow::csv::StreamingReader> open_reader(const fs::path& file,
                                                           const std::vector<std::string>& text_columns, bool ahead);
  std::vector<std::string> read_header(const fs::path& file);
  std::vector<std::string> first_row(const std::vector<std::string>& names);
  void classify(const std::vector<std::string>& header, const CsvColumnRoles& roles);
  bool open_file(size_t index);
  [[noreturn]] void refuse(const arrow::Status& status, const fs::path& file) const;

  Dialect dialect_;
  std::vector<std::string> header_;
  std::shared_ptr<arrow::csv::StreamingReader> reader_;
  struct BadRow {
    int32_t expected_columns = 0, actual_columns = 0;
    int64_t number = -1;  // 1-based, the header is 1; -1 when Arrow does not know
  };
  BadRow bad_row_;  // the last row of the wrong width Arrow reported
  std::string bad_row_text_;
};

CsvSource::CsvSource(const std::string& pattern, const TableReadOptions& options, const CsvColumnRoles& roles) {
  name_ = pattern;
  files_ = expand_glob(pattern);
  dialect_ = dialect_of(files_[0], options.csv);
  header_ = read_header(files_[0]);
  check_header(header_, files_[0]);
  classify(header_, roles);
  open_file(0);
}

std::shared_ptr<arrow::csv::StreamingReader> CsvSource::open_reader(const fs::path& file,
                                                                    const std::vector<std::string>& text_columns,
                                                                    bool ahead) {
  bad_row_.number = -1;
  auto read = arrow::csv::ReadOptions::Defaults();
  read.block_size = kBlockBytes;
  read.use_threads = ahead;  // parse the next blocks on Arrow's threads while this one converts
  auto parse = arrow::csv::ParseOptions::Defaults();
  parse.delimiter = dialect_.delimiter;
  parse.quoting = dialect_.quote != '\0';
  parse.quote_char = dialect_.quote == '\0' ? '"' : dialect_.quote;
  parse.newlines_in_values = true;
  parse.invalid_row_handler = [this](const arrow::csv::InvalidRow& row) {
    bad_row_text_.assign(row.text.substr(0, 200));
    bad_row_ = BadRow{row.expected_columns, row.actual_columns, row.number};
    return arrow::csv::InvalidRowResult::Error;
  };
  auto convert = arrow::csv::ConvertOptions::Defaults();
  convert.check_utf8 = false;  // ids pass as they are; a numeric cell that is not UTF-8 is not a number anyway
  convert.strings_can_be_null = false;  // "NA" and "" stay text: cell_parse.hpp decides what is missing
  convert.include_columns = text_columns;
  for (const auto& name : text_columns) convert.column_types[name] = arrow::utf8();
  auto made = arrow::csv::StreamingReader::Make(arrow::io::default_io_context(), open_csv_stream(file), read, parse,
                                                convert);
  if (!made.ok()) refuse(made.status(), file);
  return *made;
}

std::vector<std::string> CsvSource::read_header(const fs::path& file) {
  return open_reader(file, {}, false)->schema()->field_names();
}

// The first data row's cells of `names`, as text (empty when the file has no rows).
std::vector<std::string> CsvSource::first_row(const std::vector<std::string>& names) {
  auto reader = open_reader(files_[0], names, false);
  std::shared_ptr<arrow::RecordBatch> batch;
  while (true) {
    const auto status = reader->ReadNext(&batch);
    if (!status.ok()) refuse(status, files_[0]);
    if (!batch || batch->num_rows() > 0) break;
  }
  std::vector<std::string> cells;
  for (const auto& name : names) {
    cells.emplace_back(batch ? std::static_pointer_cast<arrow::StringArray>(batch->GetColumnByName(name))->GetView(0)
                             : std::string_view());
  }
  return cells;
}

void CsvSource::classify(const std::vector<std::string>& header, const CsvColumnRoles& roles) {
  check_roles_present(roles, header, files_[0]);
  std::vector<std::string> candidates;  // every column that may be numeric
  for (const auto& name : header) {
    if (contains_name(roles.id_columns, name) || contains_name(roles.ignore_columns, name)) continue;
    if (!roles.only_numeric || is_required_numeric(roles, name)) candidates.push_back(name);
  }
  const auto cells = first_row(candidates);
  for (size_t c = 0; c < candidates.size(); ++c) {
    const auto& name = candidates[c];
    if (!is_required_numeric(roles, name) && looks_like_text(cells[c])) {
      log::info("data: column '", name, "' of ", files_[0].string(), " is not numeric ('", cells[c],
                "' in the first row): skipped; list it in data.id_columns to carry it into predictions");
      continue;
    }
    columns_.push_back(name);
  }
  for (const auto& name : header) {
    if (contains_name(roles.id_columns, name)) id_columns_.push_back(name);
  }
}

bool CsvSource::open_file(size_t index) {
  reader_.reset();
  file_index_ = index;
  if (index >= files_.size()) return false;
  if (index > 0) check_same_columns(header_, read_header(files_[index]), files_[0], files_[index]);
  std::vector<std::string> used = columns_;
  used.insert(used.end(), id_columns_.begin(), id_columns_.end());
  reader_ = open_reader(files_[index], used, true);
  return true;
}

std::shared_ptr<arrow::RecordBatch> CsvSource::next_record_batch() {
  while (reader_) {
    std::shared_ptr<arrow::RecordBatch> batch;
    bad_row_.number = -1;
    const auto status = reader_->ReadNext(&batch);
    if (!status.ok()) refuse(status, files_[file_index_]);
    if (batch) return batch;
    open_file(file_index_ + 1);
  }
  return nullptr;
}

int64_t CsvSource::row_upper_bound() const {
  int64_t rows = 0;
  for (const auto& file : files_) rows += count_data_lines(file);
  return rows;
}

std::string CsvSource::cell_location(int64_t row_in_file, const std::string& column) const {
  const auto at = std::find(header_.begin(), header_.end(), column) - header_.begin() + 1;
  const auto& file = files_[file_index_];
  return file.string() + ":" + std::to_string(line_of_row(file, dialect_.quote, row_in_file)) + ":" +
         std::to_string(at);
}

// Arrow's message, with the file and the line where Arrow knows the row.
void CsvSource::refuse(const arrow::Status& status, const fs::path& file) const {
  const std::string message = status.message();
  if (message.find("Empty CSV file") != std::string::npos) {
    throw InputError(file.string() + ": empty file (expected a header line of column names)");
  }
  if (bad_row_.number >= 2) {
    throw InputError(file.string() + ":" + std::to_string(line_of_row(file, dialect_.quote, bad_row_.number - 2)) +
                     ": expected " + std::to_string(bad_row_.expected_columns) + " cells (as in the header), found " +
                     std::to_string(bad_row_.actual_columns) + ": '" + bad_row_text_ + "'");
  }
  if (message.find("straddl") != std::string::npos || message.find("out of sync") != std::string::npos) {
    throw InputError(file.string() + ": a row or quoted field longer than " + std::to_string(kBlockBytes >> 20) +
                     " MB (an unclosed quote, or not a text table; data.csv.quote sets the quote character)");
  }
  if (status.IsIOError()) throw IoError(file.string() + ": " + message);
  throw InputError(file.string() + ": " + message);
}

}  // namespace

std::unique_ptr<TableSource> open_csv_source(const std::string& pattern, const TableReadOptions& options,
                                             const CsvColumnRoles& roles) {
  return std::make_unique<CsvSource>(pattern, options, roles);
}

}  // namespace safetrain::data
