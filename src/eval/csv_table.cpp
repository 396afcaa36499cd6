#include "csv_table.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "safetrain/common/error.hpp"

namespace safetrain::eval {
namespace {

// Splits one logical record; `line` advances over quoted line breaks.
std::vector<std::string> split_record(std::istream& in, std::string first, size_t& line,
                                      const std::filesystem::path& path) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  std::string text = std::move(first);
  for (size_t i = 0;; ++i) {
    if (i == text.size()) {
      if (!quoted) break;
      std::string next;
      if (!std::getline(in, next)) {
        throw InputError(path.string() + ":" + std::to_string(line) + ": unterminated quoted field");
      }
      ++line;
      text += "\n" + next;
    }
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

CsvTable CsvTable::read(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string() + ": cannot open for reading");
  CsvTable table;
  table.path_ = path;
  std::string text;
  size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    const size_t start_line = line;
    if (text.empty() || text == "\r") continue;
    auto fields = split_record(in, text, line, path);
    if (table.header_.empty()) {
      table.header_ = std::move(fields);
      continue;
    }
    if (fields.size() != table.header_.size()) {
      throw InputError(path.string() + ":" + std::to_string(start_line) + ": expected " +
                       std::to_string(table.header_.size()) + " fields (as in the header), found " +
                       std::to_string(fields.size()));
    }
    table.cells_.push_back(std::move(fields));
    table.line_numbers_.push_back(start_line);
  }
  if (table.header_.empty()) throw InputError(path.string() + ":1: empty file, expected a header row");
  return table;
}

std::optional<size_t> CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  return std::nullopt;
}

size_t CsvTable::required_column(const std::string& name) const {
  if (auto index = column(name)) return *index;
  throw InputError(path_.string() + ":1: missing column '" + name + "'");
}

double CsvTable::number(size_t row, size_t column) const {
  const std::string& cell = cells_[row][column];
  if (cell.empty()) return NAN;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(cell.c_str(), &end);
  if (end == cell.c_str() || *end != '\0' || (errno == ERANGE && std::isinf(value))) {
    throw InputError(path_.string() + ":" + std::to_string(line_numbers_[row]) + ":" + std::to_string(column + 1) +
                     ": '" + cell + "' is not a number (column '" + header_[column] + "')");
  }
  return value;
}

}  // namespace safetrain::eval
