#pragma once
// One CSV file as batches of parsed, converted rows. The text is read in 1 MB steps (decompressed); each batch
// is cut at line ends into a few pieces per thread that arrow::csv::BlockParser parses and cell_parse.hpp
// converts in parallel (the caller's thread and a pool of helpers, each taking the next piece left). A cut
// may fall inside a quoted line break: a piece is kept only when the piece before it parsed to its very end,
// so such a cut is found by the parser itself, with no separate pass over the quotes, and the rows after it
// are parsed again in the next batch.
// The reading loop is ours because Arrow's readers that own it (StreamingReader, TableReader) buffer far
// ahead of the consumer and hold every cell as a string; the tokenising is Arrow's.
#include <arrow/csv/options.h>
#include <arrow/io/api.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cell_parse.hpp"
#include "reader_threads.hpp"

namespace safetrain::data {

// The header positions of the columns converted: numbers into float32 (their decimal mark `decimal`), ids
// kept as text.
struct CsvColumnsWanted {
  std::vector<int32_t> numeric_at, id_at;
  char decimal = '.';
};

// A row whose width differs from the header's (Arrow's InvalidRow).
struct CsvBadRow {
  int32_t expected_columns = 0, actual_columns = 0;
  int64_t row = -1;  // data row of its piece, from 0
  std::string text;
};

// A cell cell_parse.hpp refused.
struct CsvBadCell {
  int64_t row = -1;   // data row of its piece, from 0; -1: none
  size_t column = 0;  // index into numeric_at
  CellError error = CellError::none;
  std::string text;
};

// One piece of a batch: its rows converted, or where it stopped.
struct CsvPiece {
  int64_t rows = 0;                           // data rows converted
  std::vector<float> values;                  // rows x numeric_at.size(), row-major
  std::vector<std::vector<std::string>> ids;  // one per id_at
  CsvBadCell bad_cell;
  arrow::Status status;  // Arrow's refusal, and the row behind it when it was a row of the wrong width
  CsvBadRow bad_row;
  size_t used = 0, size = 0;  // bytes of its text parsed, of all
};

class CsvBlocks {
 public:
  // Opens `file` and parses its header line; an Arrow error status is returned through `status`.
  CsvBlocks(const std::filesystem::path& file, arrow::csv::ParseOptions options, int64_t read_bytes,
            int64_t max_row_bytes);
  arrow::Status status() const { return status_; }
  const std::vector<std::string>& header() const { return header_; }
  // The cells of the first data row (empty when there is none), without consuming it.
  std::vector<std::string> first_row();
  // The next pieces, in file order: about `batch_bytes` of text (one read at least) parsed on `threads`;
  // empty at the end of the file or when reading failed (status()). A piece that stopped on a refusal is the
  // last one returned.
  std::vector<CsvPiece> next(const CsvColumnsWanted& wanted, ReaderThreads& threads, int64_t batch_bytes);
  bool row_too_long() const { return too_long_; }

 private:
  std::vector<size_t> cut(int pieces) const;  // piece boundaries in text_, at line ends
  // Reads onto `text` until it holds `bytes` or the stream ends (`eof`); the stream's error, if any.
  arrow::Status read_more(std::string& text, size_t bytes, bool& eof);
  bool fill(size_t bytes);  // read_more onto text_; false on error (status())
  void take_ahead(size_t consumed);  // drops text_'s first `consumed` bytes, appends ahead_

  arrow::csv::ParseOptions options_;
  int64_t read_bytes_, max_row_bytes_;
  std::shared_ptr<arrow::io::InputStream> stream_;
  bool compressed_;  // .gz, .zst: the next batch is read while one is parsed
  std::string text_;   // read, not yet parsed
  std::string ahead_;  // read while text_ is parsed
  bool eof_ = false, too_long_ = false;
  arrow::Status status_;
  std::vector<std::string> header_;
};

}  // namespace safetrain::data
