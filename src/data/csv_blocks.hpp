#pragma once
// One CSV file as a sequence of parsed blocks (arrow::csv::BlockParser over 1 MB reads of the decompressed
// text): the header first, then blocks of whole data rows. The reading loop is ours because Arrow's readers
// that own it (StreamingReader, TableReader) buffer far ahead of the consumer; the parsing is Arrow's.
#include <arrow/csv/options.h>
#include <arrow/csv/parser.h>
#include <arrow/io/api.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace safetrain::data {

class CsvBlocks {
 public:
  // Opens `file` and parses its header line; an Arrow error status is returned through `status`.
  CsvBlocks(const std::filesystem::path& file, arrow::csv::ParseOptions options, int64_t read_bytes,
            int64_t max_row_bytes);
  arrow::Status status() const { return status_; }
  const std::vector<std::string>& header() const { return header_; }
  // Parses the next data rows (one at least); false at the end of the file or on an error (status()).
  bool next();
  const arrow::csv::BlockParser& block() const { return *parser_; }
  int64_t rows_before() const { return rows_before_; }  // data rows of the file before block()
  bool row_too_long() const { return too_long_; }

 private:
  bool parse(int32_t num_cols, int32_t max_rows);  // the next rows of text_ into parser_
  bool fill();                                     // reads more text; false at the end

  arrow::csv::ParseOptions options_;
  int64_t read_bytes_, max_row_bytes_;
  std::shared_ptr<arrow::io::InputStream> stream_;
  std::string text_;  // read, not yet parsed
  bool eof_ = false, too_long_ = false;
  arrow::Status status_;
  std::unique_ptr<arrow::csv::BlockParser> parser_;
  std::vector<std::string> header_;
  int64_t rows_before_ = 0, rows_parsed_ = 0;
};

}  // namespace safetrain::data
