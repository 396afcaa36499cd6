#include "parquet_columns.hpp"

#include <arrow/scalar.h>
#include <arrow/type.h>
#include <arrow/util/float16.h>
#include <parquet/exception.h>

#include <cmath>
#include <limits>

namespace safetrain::data {
namespace {

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

// A value as float32 with the rules of a CSV cell: NaN is missing (one NaN, whatever its payload); inf and
// values float32 cannot hold are refused (false). Through double, as Arrow's conversion did, so an int64
// rounds the same in every format.
template <typename T>
bool to_cell(T value, float& out) {
  const auto wide = static_cast<double>(value);
  if (std::isnan(wide)) {
    out = kMissing;
    return true;
  }
  if (!std::isfinite(wide) || std::abs(wide) > static_cast<double>(std::numeric_limits<float>::max())) return false;
  out = static_cast<float>(wide);
  return true;
}

template <typename T>
std::string text_of_value(T value) {
  return arrow::MakeScalar(value)->ToString();  // as Arrow prints it ("inf", "1e+39")
}

// Signed physical values whose column is unsigned (uint32 in INT32, uint64 in INT64) read back unsigned.
template <typename Unsigned>
struct AsUnsigned {
  template <typename T>
  Unsigned operator()(T value) const { return static_cast<Unsigned>(value); }
};
struct AsIs {
  template <typename T>
  T operator()(T value) const { return value; }
};
struct HalfFloat {
  float operator()(const parquet::FixedLenByteArray& value) const {
    return arrow::util::Float16::FromLittleEndian(value.ptr).ToFloat();
  }
};

}  // namespace

ParquetColumnCursor::ParquetColumnCursor(std::shared_ptr<parquet::ColumnReader> reader, arrow::Type::type type)
    : reader_(std::move(reader)), type_(type), max_definition_(reader_ ? reader_->descr()->max_definition_level() : 0) {}

template <typename Reader, typename Convert>
int64_t ParquetColumnCursor::read_typed(int64_t rows, float* out, int64_t stride, ParquetScratch& scratch,
                                        std::string& bad_cell, Convert convert) {
  using Value = typename Reader::T;
  static_assert(sizeof(Value) <= sizeof(double), "the scratch holds kValues of at most 8 bytes");
  auto& reader = static_cast<Reader&>(*reader_);
  auto* values = reinterpret_cast<Value*>(scratch.values.data());
  int16_t* levels = max_definition_ > 0 ? scratch.levels.data() : nullptr;
  int64_t done = 0;
  while (done < rows) {
    int64_t values_read = 0;
    const int64_t want = std::min(rows - done, ParquetScratch::kValues);
    const int64_t got = reader.ReadBatch(want, levels, nullptr, values, &values_read);
    if (got == 0) throw parquet::ParquetException("the column chunk ends " + std::to_string(rows - done) + " rows early");
    int64_t next_value = 0;
    for (int64_t r = 0; r < got; ++r, ++done, out += stride) {
      if (levels && levels[r] < max_definition_) {
        *out = kMissing;
        continue;
      }
      const auto value = convert(values[next_value++]);
      if (!to_cell(value, *out)) {
        bad_cell = text_of_value(value);
        return done;
      }
    }
  }
  return -1;
}

// By the physical type; the Arrow type says which integers are unsigned and which fixed-length values are
// half floats.
int64_t ParquetColumnCursor::read(int64_t rows, float* out, int64_t stride, ParquetScratch& scratch,
                                  std::string& bad_cell) {
  if (type_ == arrow::Type::NA) {  // a column of nulls only
    for (int64_t r = 0; r < rows; ++r) out[r * stride] = kMissing;
    return -1;
  }
  const bool is_unsigned = type_ == arrow::Type::UINT32 || type_ == arrow::Type::UINT64;
  switch (reader_->type()) {
    case parquet::Type::FLOAT: return read_typed<parquet::FloatReader>(rows, out, stride, scratch, bad_cell, AsIs{});
    case parquet::Type::DOUBLE: return read_typed<parquet::DoubleReader>(rows, out, stride, scratch, bad_cell, AsIs{});
    case parquet::Type::INT32:
      if (is_unsigned) return read_typed<parquet::Int32Reader>(rows, out, stride, scratch, bad_cell, AsUnsigned<uint32_t>{});
      return read_typed<parquet::Int32Reader>(rows, out, stride, scratch, bad_cell, AsIs{});
    case parquet::Type::INT64:
      if (is_unsigned) return read_typed<parquet::Int64Reader>(rows, out, stride, scratch, bad_cell, AsUnsigned<uint64_t>{});
      return read_typed<parquet::Int64Reader>(rows, out, stride, scratch, bad_cell, AsIs{});
    case parquet::Type::FIXED_LEN_BYTE_ARRAY:
      if (type_ == arrow::Type::HALF_FLOAT) {
        return read_typed<parquet::FixedLenByteArrayReader>(rows, out, stride, scratch, bad_cell, HalfFloat{});
      }
      break;
    default: break;
  }
  throw parquet::ParquetException("Parquet values of physical type " + parquet::TypeToString(reader_->type()) + ", not numbers");
}

}  // namespace safetrain::data
