#pragma once
// Arrow's statuses and values as safetrain's errors and text, for the formats read through Arrow.
#include <arrow/api.h>

#include <string>

namespace safetrain::data {

// Throws InputError (bad input, naming `where`) or IoError for a failed Arrow status.
void check_arrow(const arrow::Status& status, const std::string& where);
template <typename T>
T value_or_throw(arrow::Result<T> result, const std::string& where) {
  check_arrow(result.status(), where);
  return std::move(result).ValueOrDie();
}

// Cell `i` of an Arrow array as text (an id column's value in predictions): strings as they are, other types
// as Arrow prints them, null as "".
std::string arrow_cell_text(const arrow::Array& array, int64_t i);

}  // namespace safetrain::data
