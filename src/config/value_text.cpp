#include "value_text.hpp"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace safetrain::config {

bool parse_int(const std::string& text, long long& out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars takes no '+'
  auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end && begin != end;
}

bool parse_double(const std::string& text, double& out) {
  // Decimal only, as for integers: strtod would also read "0x10" as 16 and "infinity".
  if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string::npos) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  // Whole text, finite, no overflow: "1e400", "inf" and "nan" are not settings.
  return end == text.c_str() + text.size() && errno != ERANGE && out - out == 0.0;
}

bool parse_bool(const std::string& text, bool& out) {
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
  for (const char* t : kTrue) {
    if (text == t) return out = true, true;
  }
  for (const char* f : kFalse) {
    if (text == f) return out = false, true;
  }
  return false;
}

std::string shortest_text(double value) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  std::string text = buffer;
  // Keep it a float in YAML's eyes: "1" -> "1.0" (but leave "1e-06" alone).
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

}  // namespace safetrain::config
