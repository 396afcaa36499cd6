#include "csv_blocks.hpp"

#include "csv_text.hpp"

namespace safetrain::data {

CsvBlocks::CsvBlocks(const std::filesystem::path& file, arrow::csv::ParseOptions options, int64_t read_bytes,
                     int64_t max_row_bytes)
    : options_(std::move(options)), read_bytes_(read_bytes), max_row_bytes_(max_row_bytes), stream_(open_csv_stream(file)) {
  if (!fill()) return;
  if (text_.rfind("\xEF\xBB\xBF", 0) == 0) text_.erase(0, 3);  // a UTF-8 byte-order mark is not part of a name
  if (!parse(-1, 1)) return;
  for (int32_t c = 0; c < parser_->num_cols(); ++c) {
    status_ = parser_->VisitColumn(c, [&](const uint8_t* data, uint32_t size, bool) {
      header_.emplace_back(reinterpret_cast<const char*>(data), size);
      return arrow::Status::OK();
    });
  }
}

bool CsvBlocks::fill() {
  if (eof_) return false;
  std::string chunk(static_cast<size_t>(read_bytes_), '\0');
  auto read = stream_->Read(read_bytes_, chunk.data());
  if (!read.ok()) {
    status_ = read.status();
    return false;
  }
  text_.append(chunk.data(), static_cast<size_t>(*read));
  eof_ = *read == 0;
  return !eof_;
}

bool CsvBlocks::parse(int32_t num_cols, int32_t max_rows) {
  while (true) {
    parser_ = std::make_unique<arrow::csv::BlockParser>(arrow::default_memory_pool(), options_, num_cols,
                                                        rows_parsed_ + 1, max_rows);
    uint32_t used = 0;
    status_ = eof_ ? parser_->ParseFinal(text_, &used) : parser_->Parse(text_, &used);
    if (!status_.ok()) return false;
    if (parser_->num_rows() > 0 || (eof_ && used == text_.size())) {
      text_.erase(0, used);
      rows_parsed_ += parser_->total_num_rows();
      return parser_->num_rows() > 0;
    }
    text_.erase(0, used);  // skipped rows only
    rows_parsed_ += parser_->total_num_rows();
    if (static_cast<int64_t>(text_.size()) > max_row_bytes_) {
      too_long_ = true;
      status_ = arrow::Status::Invalid("row longer than the limit");
      return false;
    }
    if (!fill() && !status_.ok()) return false;
  }
}

bool CsvBlocks::next() {
  if (!status_.ok()) return false;
  rows_before_ += parser_ && rows_parsed_ > 1 ? parser_->num_rows() : 0;
  if (text_.size() < static_cast<size_t>(read_bytes_) && !eof_ && !fill() && !status_.ok()) return false;
  return parse(static_cast<int32_t>(header_.size()), arrow::csv::kMaxParserNumRows);
}

}  // namespace safetrain::data
