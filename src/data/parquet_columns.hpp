#pragma once
// One numeric column chunk of a Parquet row group, read page by page through parquet's low-level
// TypedColumnReader::ReadBatch straight into strided float32 cells (a row-major table's column): a reader holds
// one page (and the chunk's dictionary), never the column chunk or the row group decoded. Nulls and NaN are
// missing values (NaN); inf and values beyond float32 are refused as in a CSV cell.
#include <arrow/type_fwd.h>
#include <parquet/column_reader.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace safetrain::data {

// Decoded values and levels of one ReadBatch, shared by every column read (one allocation, not one per column).
struct ParquetScratch {
  static constexpr int64_t kValues = 4096;  // values per ReadBatch
  std::vector<int16_t> levels = std::vector<int16_t>(kValues);
  std::vector<double> values = std::vector<double>(kValues);  // room for kValues of any physical type
};

class ParquetColumnCursor {
 public:
  // `type`: the column's Arrow type (integers, floats, half floats, null), which says how values convert.
  ParquetColumnCursor(std::shared_ptr<parquet::ColumnReader> reader, arrow::Type::type type);
  // The next `rows` values into out[0], out[stride], ...; returns the first refused row (from 0 in this
  // call) and its value's text in `bad_cell`, or -1. Throws parquet::ParquetException for a damaged chunk
  // (one that ends early, a page that does not decode).
  int64_t read(int64_t rows, float* out, int64_t stride, ParquetScratch& scratch, std::string& bad_cell);

 private:
  template <typename Reader, typename Convert>
  int64_t read_typed(int64_t rows, float* out, int64_t stride, ParquetScratch& scratch, std::string& bad_cell,
                     Convert convert);

  std::shared_ptr<parquet::ColumnReader> reader_;
  arrow::Type::type type_;
  int16_t max_definition_;
};

}  // namespace safetrain::data
