#pragma once
// A format that yields Arrow record batches (Parquet): record batches of the used columns (numeric columns first, in
// columns() order, then the id columns), converted into float32 rows and id text. A format supplies the
// batches, file after file, and names a cell's place for messages.
#include <arrow/api.h>

#include <memory>
#include <string>

#include "safetrain/data/table_source.hpp"

namespace safetrain::data {

class ArrowBatchSource : public TableSource {
 public:
  int64_t read_rows(float* out, int64_t max_rows, TextColumns* ids) override;
  void rewind() override;

 protected:
  // The next batch of the used columns, moving on to the next file at the end of one (setting file_index_);
  // nullptr after the last file.
  virtual std::shared_ptr<arrow::RecordBatch> next_record_batch() = 0;
  virtual void restart() = 0;  // back to the first file's first row
  // "path:LINE:COL" for CSV, "path: row R, column C" for Parquet: the place of a cell, for messages.
  virtual std::string cell_location(int64_t row_in_file, const std::string& column) const = 0;
  size_t file_index_ = 0;

 private:
  bool advance();  // the next non-empty batch into batch_; false at the end
  void convert_numeric(int column, int64_t rows, float* out) const;
  void convert_ids(int64_t rows, TextColumns& ids) const;
  [[noreturn]] void refuse_cell(int64_t row, int column, const std::string& message) const;

  std::shared_ptr<arrow::RecordBatch> batch_;
  std::vector<std::shared_ptr<arrow::Array>> arrays_;  // batch_'s used columns by name, numeric then ids
  size_t batch_file_ = 0;
  int64_t offset_ = 0;           // rows of batch_ already read
  int64_t batch_first_row_ = 0;  // row of the file (from 0) that batch_ starts at
};

// Throws InputError (bad input, naming `where`) or IoError for a failed Arrow status.
void check_arrow(const arrow::Status& status, const std::string& where);
template <typename T>
T value_or_throw(arrow::Result<T> result, const std::string& where) {
  check_arrow(result.status(), where);
  return std::move(result).ValueOrDie();
}

}  // namespace safetrain::data
