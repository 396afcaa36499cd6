#include "arrow_status.hpp"

#include "safetrain/common/error.hpp"

namespace safetrain::data {

void check_arrow(const arrow::Status& status, const std::string& where) {
  if (status.ok()) return;
  // A damaged compressed file (truncated .gz) is an IOError to Arrow, bad input to us.
  const bool damaged = status.message().find("ompress") != std::string::npos ||
                       status.message().find("zlib") != std::string::npos ||
                       status.message().find("zstd") != std::string::npos;
  if (status.IsIOError() && !damaged) throw IoError(where + ": " + status.message());
  throw InputError(where + ": " + status.message());
}

std::string arrow_cell_text(const arrow::Array& array, int64_t i) {
  if (array.IsNull(i)) return "";
  if (array.type_id() == arrow::Type::STRING) return std::string(static_cast<const arrow::StringArray&>(array).GetView(i));
  if (array.type_id() == arrow::Type::LARGE_STRING) {
    return std::string(static_cast<const arrow::LargeStringArray&>(array).GetView(i));
  }
  auto scalar = array.GetScalar(i);
  return scalar.ok() ? (*scalar)->ToString() : "";
}

}  // namespace safetrain::data
