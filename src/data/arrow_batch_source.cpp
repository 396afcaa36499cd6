#include "arrow_batch_source.hpp"

#include <cmath>
#include <limits>

#include "cell_parse.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/stop_signals.hpp"

namespace safetrain::data {
namespace {

// A numeric Arrow column (Parquet's float, double and integer columns): nulls are missing values; inf and
// values beyond float32 are refused as in a CSV cell. Returns the first refused row, or -1.
template <typename ArrayType>
int64_t copy_numbers(const arrow::Array& array, int64_t first, int64_t rows, float* out, int64_t stride) {
  const auto& typed = static_cast<const ArrayType&>(array);
  constexpr double kMax = static_cast<double>(std::numeric_limits<float>::max());
  for (int64_t r = 0; r < rows; ++r, out += stride) {
    const int64_t i = first + r;
    if (typed.IsNull(i)) {
      *out = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    const auto value = static_cast<double>(typed.Value(i));
    if (std::isnan(value)) {
      *out = std::numeric_limits<float>::quiet_NaN();
    } else if (!std::isfinite(value) || std::abs(value) > kMax) {
      return r;
    } else {
      *out = static_cast<float>(value);
    }
  }
  return -1;
}

// A text column (every CSV column is read as text): cell by cell with safetrain's rules (cell_parse.hpp).
template <typename ArrayType>
int64_t parse_texts(const arrow::Array& array, int64_t first, int64_t rows, float* out, int64_t stride,
                    CellError& error) {
  const auto& typed = static_cast<const ArrayType&>(array);
  for (int64_t r = 0; r < rows; ++r, out += stride) {
    if (typed.IsNull(first + r)) {
      *out = std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    error = parse_cell(typed.GetView(first + r), *out);
    if (error != CellError::none) return r;
  }
  return -1;
}

std::string text_of(const arrow::Array& array, int64_t i) {
  if (array.IsNull(i)) return "";
  if (array.type_id() == arrow::Type::STRING) return std::string(static_cast<const arrow::StringArray&>(array).GetView(i));
  if (array.type_id() == arrow::Type::LARGE_STRING) {
    return std::string(static_cast<const arrow::LargeStringArray&>(array).GetView(i));
  }
  auto scalar = array.GetScalar(i);
  return scalar.ok() ? (*scalar)->ToString() : "";
}

}  // namespace

void check_arrow(const arrow::Status& status, const std::string& where) {
  if (status.ok()) return;
  // A damaged compressed file (truncated .gz) is an IOError to Arrow, bad input to us.
  const bool damaged = status.message().find("ompress") != std::string::npos ||
                       status.message().find("zlib") != std::string::npos ||
                       status.message().find("zstd") != std::string::npos;
  if (status.IsIOError() && !damaged) throw IoError(where + ": " + status.message());
  throw InputError(where + ": " + status.message());
}

bool ArrowBatchSource::advance() {
  while (true) {
    throw_if_stop_requested(("while reading " + name_).c_str());
    const int64_t previous = batch_ ? batch_->num_rows() : 0;
    batch_ = next_record_batch();
    if (!batch_) return false;
    batch_first_row_ = file_index_ == batch_file_ ? batch_first_row_ + previous : 0;
    batch_file_ = file_index_;
    offset_ = 0;
    arrays_.clear();
    for (const auto* names : {&columns_, &id_columns_}) {
      for (const auto& name : *names) arrays_.push_back(batch_->GetColumnByName(name));
    }
    if (batch_->num_rows() > 0) return true;
  }
}

int64_t ArrowBatchSource::read_rows(float* out, int64_t max_rows, TextColumns* ids) {
  int64_t done = 0;
  const auto width = static_cast<int64_t>(columns_.size());
  while (done < max_rows) {
    if ((!batch_ || offset_ >= batch_->num_rows()) && !advance()) break;
    const int64_t rows = std::min(max_rows - done, batch_->num_rows() - offset_);
    for (int c = 0; c < static_cast<int>(width); ++c) convert_numeric(c, rows, out + done * width + c);
    if (ids) convert_ids(rows, *ids);
    offset_ += rows;
    done += rows;
  }
  return done;
}

void ArrowBatchSource::convert_numeric(int column, int64_t rows, float* out) const {
  const auto& array = *arrays_[static_cast<size_t>(column)];
  const auto stride = static_cast<int64_t>(columns_.size());
  int64_t bad = -1;
  CellError error = CellError::not_finite;
  switch (array.type_id()) {
    case arrow::Type::STRING: bad = parse_texts<arrow::StringArray>(array, offset_, rows, out, stride, error); break;
    case arrow::Type::LARGE_STRING:
      bad = parse_texts<arrow::LargeStringArray>(array, offset_, rows, out, stride, error);
      break;
    case arrow::Type::FLOAT: bad = copy_numbers<arrow::FloatArray>(array, offset_, rows, out, stride); break;
    case arrow::Type::DOUBLE: bad = copy_numbers<arrow::DoubleArray>(array, offset_, rows, out, stride); break;
    case arrow::Type::INT8: bad = copy_numbers<arrow::Int8Array>(array, offset_, rows, out, stride); break;
    case arrow::Type::INT16: bad = copy_numbers<arrow::Int16Array>(array, offset_, rows, out, stride); break;
    case arrow::Type::INT32: bad = copy_numbers<arrow::Int32Array>(array, offset_, rows, out, stride); break;
    case arrow::Type::INT64: bad = copy_numbers<arrow::Int64Array>(array, offset_, rows, out, stride); break;
    case arrow::Type::UINT8: bad = copy_numbers<arrow::UInt8Array>(array, offset_, rows, out, stride); break;
    case arrow::Type::UINT16: bad = copy_numbers<arrow::UInt16Array>(array, offset_, rows, out, stride); break;
    case arrow::Type::UINT32: bad = copy_numbers<arrow::UInt32Array>(array, offset_, rows, out, stride); break;
    case arrow::Type::UINT64: bad = copy_numbers<arrow::UInt64Array>(array, offset_, rows, out, stride); break;
    case arrow::Type::NA:
      for (int64_t r = 0; r < rows; ++r) out[r * stride] = std::numeric_limits<float>::quiet_NaN();
      break;
    default:
      refuse_cell(0, column, "column '" + columns_[static_cast<size_t>(column)] + "' holds " +
                                 array.type()->ToString() + " values, not numbers");
  }
  if (bad < 0) return;
  const auto& name = columns_[static_cast<size_t>(column)];
  const std::string cell = array.type_id() == arrow::Type::STRING || array.type_id() == arrow::Type::LARGE_STRING
                               ? text_of(array, offset_ + bad)
                               : array.GetScalar(offset_ + bad).ValueOrDie()->ToString();
  refuse_cell(bad, column, cell_error_text(error, cell, name));
}

void ArrowBatchSource::convert_ids(int64_t rows, TextColumns& ids) const {
  for (size_t k = 0; k < id_columns_.size(); ++k) {
    const auto& array = *arrays_[columns_.size() + k];
    auto& values = ids.values[k];
    for (int64_t r = 0; r < rows; ++r) values.push_back(text_of(array, offset_ + r));
  }
}

void ArrowBatchSource::refuse_cell(int64_t row, int column, const std::string& message) const {
  throw InputError(cell_location(batch_first_row_ + offset_ + row, columns_[static_cast<size_t>(column)]) + ": " +
                   message);
}

void ArrowBatchSource::rewind() {
  batch_.reset();
  arrays_.clear();
  batch_file_ = 0;
  offset_ = 0;
  batch_first_row_ = 0;
  restart();
}

}  // namespace safetrain::data
