#include "cell_parse.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace safetrain::data {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// std::from_chars over the whole cell; a leading '+' (CSV writers emit one) is skipped, never before a sign.
std::from_chars_result from_chars_all(std::string_view cell, double& value, const char*& begin) {
  const bool plus = cell.front() == '+' && (cell.size() < 2 || (cell[1] != '-' && cell[1] != '+'));
  begin = cell.data() + (plus ? 1 : 0);
  return std::from_chars(begin, cell.data() + cell.size(), value);
}

bool is_missing_token(std::string_view trimmed) {
  return trimmed.empty() || trimmed == "NA" || trimmed == "na" || trimmed == "N/A" || trimmed == "nan" ||
         trimmed == "NaN" || trimmed == "NAN" || trimmed == "null";
}

// A number with a decimal comma, read as from_chars reads a point: the cell is copied with ',' as '.'.
CellError parse_decimal_comma(std::string_view cell, float& out) {
  const std::string_view trimmed = trim(cell);
  if (trimmed.find('.') != std::string_view::npos) return CellError::not_a_number;
  std::array<char, 64> small{};  // the usual cell, without an allocation
  std::string large;
  char* copy = small.data();
  if (trimmed.size() > small.size()) {
    large.resize(trimmed.size());
    copy = large.data();
  }
  std::replace_copy(trimmed.begin(), trimmed.end(), copy, ',', '.');
  return parse_cell(std::string_view(copy, trimmed.size()), out, '.');
}

// Digits, one mark `mark`, digits, with an optional sign: a number written with that decimal mark.
bool is_number_with_mark(std::string_view cell, char mark) {
  cell = trim(cell);
  if (!cell.empty() && (cell.front() == '-' || cell.front() == '+')) cell.remove_prefix(1);
  const auto at = cell.find(mark);
  const auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  };
  return at != std::string_view::npos && digits(cell.substr(0, at)) && digits(cell.substr(at + 1));
}

}  // namespace

bool is_missing(std::string_view cell) { return is_missing_token(trim(cell)); }

CellError parse_cell(std::string_view cell, float& out, char decimal) {
  if (decimal != '.') return parse_decimal_comma(cell, out);
  cell = trim(cell);
  if (is_missing_token(cell)) {
    out = std::numeric_limits<float>::quiet_NaN();
    return CellError::none;
  }
  double value = 0;
  const char* begin = nullptr;
  const auto [end, error] = from_chars_all(cell, value, begin);
  if (end != cell.data() + cell.size() || (error != std::errc() && error != std::errc::result_out_of_range)) {
    // A NUL stops the number: looked for only then, not in every cell.
    return cell.find('\0') != std::string_view::npos ? CellError::nul_byte : CellError::not_a_number;
  }
  // from_chars reports an underflow (1e-400) as out of range too: that is a zero, not an error.
  const std::string_view digits(begin, static_cast<size_t>(end - begin));
  if (error == std::errc::result_out_of_range &&
      (digits.find("e-") != std::string_view::npos || digits.find("E-") != std::string_view::npos)) {
    out = 0.0f;
    return CellError::none;
  }
  // inf, nan spelt as a number, and anything beyond float32 would poison the training (loss inf/nan).
  if (error == std::errc::result_out_of_range || !std::isfinite(value) ||
      std::abs(value) > static_cast<double>(std::numeric_limits<float>::max())) {
    return CellError::not_finite;
  }
  out = static_cast<float>(value);
  return CellError::none;
}

std::string cell_error_text(CellError error, std::string_view cell, const std::string& column, char decimal) {
  std::string shown(cell.substr(0, 80));
  std::replace(shown.begin(), shown.end(), '\0', '?');
  const std::string head = "column '" + column + "': '" + shown + "'";
  switch (error) {
    case CellError::nul_byte:
      return head + ": NUL byte in the cell (binary data or a UTF-16 file; save the table as UTF-8 text)";
    case CellError::not_finite:
      return head + " is not a finite 32-bit number (the limit is +-3.4e38; write NA for a missing value)";
    default:
      if (decimal == '.' && is_number_with_mark(cell, ',')) return head + " is not a number (a decimal comma? set data.csv.decimal: ',')";
      if (decimal == ',' && is_number_with_mark(cell, '.')) return head + " is not a number (data.csv.decimal is ',')";
      return head + " is not a number";
  }
}

bool looks_like_text(std::string_view cell, char decimal) {
  float ignored = 0;
  if (parse_cell(cell, ignored, decimal) != CellError::not_a_number) return false;
  return std::any_of(cell.begin(), cell.end(), [](char ch) { return std::isalpha(static_cast<unsigned char>(ch)); });
}

}  // namespace safetrain::data
