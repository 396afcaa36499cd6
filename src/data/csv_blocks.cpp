#include "csv_blocks.hpp"

#include <arrow/csv/parser.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "csv_text.hpp"

namespace safetrain::data {
namespace {

constexpr int64_t kParseBytes = 256 << 10;  // text per parser call (see parse_piece)
constexpr int32_t kFirstParseRows = 16;     // the first call of a piece, to learn its row length
constexpr int kPiecesPerThread = 4;

// Room for the rows the piece holds at the length of its first ones (plus an eighth), so its values are not
// copied as they grow; a longer tail grows the vector as before.
void reserve_rows(CsvPiece& piece, const CsvColumnsWanted& wanted, size_t expected_rows) {
  piece.values.reserve((expected_rows + expected_rows / 8 + 1) * wanted.numeric_at.size());
}

// Records a row of the wrong width in `bad` (a line of blanks carries no row, as an empty line does for Arrow).
arrow::csv::ParseOptions with_bad_row_record(arrow::csv::ParseOptions options, CsvBadRow* bad) {
  options.invalid_row_handler = [bad](const arrow::csv::InvalidRow& row) {
    if (row.text.find_first_not_of(" \t\r") == std::string_view::npos) return arrow::csv::InvalidRowResult::Skip;
    *bad = CsvBadRow{row.expected_columns, row.actual_columns, row.number, std::string(row.text.substr(0, 200))};
    return arrow::csv::InvalidRowResult::Error;
  };
  return options;
}

// The parsed rows of `parser` converted onto the end of `piece`; false at a refused cell (recorded in it):
// column by column, the first refused cell of the first column that has one, as before the pieces.
bool convert_parsed_rows(const arrow::csv::BlockParser& parser, const CsvColumnsWanted& wanted, CsvPiece& piece) {
  const auto width = static_cast<int64_t>(wanted.numeric_at.size());
  const int64_t first = piece.rows;
  piece.values.resize(static_cast<size_t>((first + parser.num_rows()) * width));
  for (size_t k = 0; k < wanted.numeric_at.size(); ++k) {
    float* out = piece.values.data() + first * width + static_cast<int64_t>(k);
    int64_t row = 0;
    (void)parser.VisitColumn(wanted.numeric_at[k], [&](const uint8_t* data, uint32_t size, bool) {
      const std::string_view cell(reinterpret_cast<const char*>(data), size);
      const CellError error = parse_cell(cell, out[row * width], wanted.decimal);
      if (error != CellError::none) {
        piece.bad_cell = CsvBadCell{first + row, k, error, std::string(cell)};
        return arrow::Status::Cancelled("refused cell");
      }
      ++row;
      return arrow::Status::OK();
    });
    if (piece.bad_cell.row >= 0) return false;
  }
  for (size_t k = 0; k < wanted.id_at.size(); ++k) {
    (void)parser.VisitColumn(wanted.id_at[k], [&](const uint8_t* data, uint32_t size, bool) {
      piece.ids[k].emplace_back(reinterpret_cast<const char*>(data), size);
      return arrow::Status::OK();
    });
  }
  piece.rows += parser.num_rows();
  return true;
}

// One piece, parsed and converted on a worker thread: whole rows only, unless it is the last text of the file.
CsvPiece parse_piece(std::string_view text, bool last, const arrow::csv::ParseOptions& options,
                     const CsvColumnsWanted& wanted, int32_t columns) {
  CsvPiece piece;
  piece.size = text.size();
  piece.ids.resize(wanted.id_at.size());
  const auto recording = with_bad_row_record(options, &piece.bad_row);
  int32_t rows_per_parse = kFirstParseRows;
  while (piece.used < text.size()) {
    // Rows are numbered from the piece's start. A parser call takes about kParseBytes of text, so what
    // Arrow's parser holds beside the text stays small whatever the piece's size.
    arrow::csv::BlockParser parser(arrow::default_memory_pool(), recording, columns, piece.rows, rows_per_parse);
    uint32_t used = 0;
    const auto rest = text.substr(piece.used);
    piece.status = last ? parser.ParseFinal(rest, &used) : parser.Parse(rest, &used);
    if (!piece.status.ok() || used == 0) break;  // refused, or a row that the next text completes
    const int64_t row_bytes = std::max<int64_t>(1, used / std::max<int32_t>(1, parser.num_rows()));
    if (piece.rows == 0) reserve_rows(piece, wanted, text.size() / static_cast<size_t>(row_bytes));
    if (!convert_parsed_rows(parser, wanted, piece)) break;
    piece.used += used;
    rows_per_parse = static_cast<int32_t>(std::clamp<int64_t>(kParseBytes / row_bytes, 1, arrow::csv::kMaxParserNumRows));
  }
  return piece;
}

}  // namespace

CsvBlocks::CsvBlocks(const std::filesystem::path& file, arrow::csv::ParseOptions options, int64_t read_bytes,
                     int64_t max_row_bytes)
    : options_(std::move(options)),
      read_bytes_(read_bytes),
      max_row_bytes_(max_row_bytes),
      stream_(open_csv_stream(file)),
      compressed_(dynamic_cast<arrow::io::CompressedInputStream*>(stream_.get()) != nullptr) {
  if (!fill(static_cast<size_t>(read_bytes_))) return;
  if (text_.rfind("\xEF\xBB\xBF", 0) == 0) text_.erase(0, 3);  // a UTF-8 byte-order mark is not part of a name
  while (true) {  // the header: the first row, whatever its width
    arrow::csv::BlockParser parser(arrow::default_memory_pool(), options_, -1, 0, 1);
    uint32_t used = 0;
    status_ = eof_ ? parser.ParseFinal(text_, &used) : parser.Parse(text_, &used);
    if (!status_.ok()) return;
    text_.erase(0, used);
    if (parser.num_rows() > 0) {
      for (int32_t c = 0; c < parser.num_cols(); ++c) {
        (void)parser.VisitColumn(c, [&](const uint8_t* data, uint32_t size, bool) {
          header_.emplace_back(reinterpret_cast<const char*>(data), size);
          return arrow::Status::OK();
        });
      }
      return;
    }
    if (eof_) return;  // an empty file: no header
    if (static_cast<int64_t>(text_.size()) > max_row_bytes_) {
      too_long_ = true;
      status_ = arrow::Status::Invalid("row longer than the limit");
      return;
    }
    if (!fill(text_.size() + static_cast<size_t>(read_bytes_))) return;
  }
}

arrow::Status CsvBlocks::read_more(std::string& text, size_t bytes, bool& eof) {
  if (!eof && text.size() < bytes) text.reserve(bytes + static_cast<size_t>(read_bytes_));  // no doubling
  while (!eof && text.size() < bytes) {
    const size_t before = text.size();
    text.resize(before + static_cast<size_t>(read_bytes_));
    auto read = stream_->Read(read_bytes_, text.data() + before);
    text.resize(before + static_cast<size_t>(read.ok() ? *read : 0));
    if (!read.ok()) return read.status();
    eof = *read == 0;
  }
  return arrow::Status::OK();
}

// text_ becomes its unparsed tail and the text read ahead; both buffers keep their capacity.
void CsvBlocks::take_ahead(size_t consumed) {
  if (ahead_.empty()) {
    text_.erase(0, consumed);
    return;
  }
  ahead_.insert(0, text_, consumed, std::string::npos);  // the tail is a part of one row: short
  text_.swap(ahead_);
  ahead_.clear();
}

bool CsvBlocks::fill(size_t bytes) {
  status_ = read_more(text_, bytes, eof_);
  return status_.ok();
}

std::vector<std::string> CsvBlocks::first_row() {
  std::vector<std::string> cells;
  CsvBadRow ignored;
  arrow::csv::BlockParser parser(arrow::default_memory_pool(), with_bad_row_record(options_, &ignored),
                                 static_cast<int32_t>(header_.size()), 0, 1);
  uint32_t used = 0;
  const auto status = eof_ ? parser.ParseFinal(text_, &used) : parser.Parse(text_, &used);
  if (!status.ok() || parser.num_rows() == 0) return cells;  // refused when the rows are read
  for (int32_t c = 0; c < parser.num_cols(); ++c) {
    (void)parser.VisitColumn(c, [&](const uint8_t* data, uint32_t size, bool) {
      cells.emplace_back(reinterpret_cast<const char*>(data), size);
      return arrow::Status::OK();
    });
  }
  return cells;
}

std::vector<size_t> CsvBlocks::cut(int pieces) const {
  std::vector<size_t> ends;
  for (int i = 1; i < pieces; ++i) {
    const size_t target = std::max(text_.size() * static_cast<size_t>(i) / static_cast<size_t>(pieces),
                                   ends.empty() ? 0 : ends.back());
    const void* line_end = std::memchr(text_.data() + target, '\n', text_.size() - target);
    if (!line_end) break;
    const size_t end = static_cast<size_t>(static_cast<const char*>(line_end) - text_.data()) + 1;
    if (end >= text_.size()) break;
    ends.push_back(end);
  }
  ends.push_back(text_.size());
  return ends;
}

std::vector<CsvPiece> CsvBlocks::next(const CsvColumnsWanted& wanted, ReaderThreads& threads, int64_t batch_bytes) {
  auto want = static_cast<size_t>(std::max(read_bytes_, batch_bytes));
  bool cutting = threads.threads() > 1;
  while (status_.ok() && fill(want) && !text_.empty()) {
    const auto ends = cut(cutting ? threads.threads() * kPiecesPerThread : 1);
    std::vector<CsvPiece> parsed(ends.size());
    // A compressed stream's next batch is read on one thread (item 0) while the others parse this one: a .gz
    // inflates on one core, and that took as long as parsing on two (100k x 70: 0.44 s, was 0.52 s). It goes
    // into its own buffer, so the pieces' text and the stream's state are not shared. A plain file's read is
    // a copy from the page cache, not worth the second buffer (+2.6 MB on that table's 27 MB).
    bool ahead_eof = false;
    arrow::Status ahead_status;
    const size_t first_piece = cutting && compressed_ && !eof_ ? 1 : 0;
    threads.each(ends.size() + first_piece, [&](size_t item, size_t) {
      if (item < first_piece) {
        ahead_status = read_more(ahead_, want, ahead_eof);
        return;
      }
      const size_t i = item - first_piece, from = i == 0 ? 0 : ends[i - 1];
      parsed[i] = parse_piece(std::string_view(text_).substr(from, ends[i] - from), eof_ && i + 1 == ends.size(),
                              options_, wanted, static_cast<int32_t>(header_.size()));
    });
    // A piece counts only after one parsed to its end: the cut before it was a row boundary.
    std::vector<CsvPiece> kept;
    size_t consumed = 0;
    for (auto& piece : parsed) {
      const bool go_on = piece.used == piece.size && piece.status.ok() && piece.bad_cell.row < 0;
      consumed += piece.used;
      kept.push_back(std::move(piece));
      if (!go_on) break;
    }
    take_ahead(consumed);
    eof_ = eof_ || ahead_eof;
    if (!ahead_status.ok()) status_ = ahead_status;  // refused at the next call, after these rows
    const auto& last = kept.back();
    if (consumed > 0 || !last.status.ok() || last.bad_cell.row >= 0) return kept;
    // Not one whole row yet: the first row is longer than the text read; read on, in one piece.
    if (static_cast<int64_t>(text_.size()) > max_row_bytes_) {
      too_long_ = true;
      status_ = arrow::Status::Invalid("row longer than the limit");
      break;
    }
    cutting = false;  // no more cuts
    want = text_.size() + static_cast<size_t>(read_bytes_);
  }
  return {};
}

}  // namespace safetrain::data
