#pragma once
// A small RFC 4180 CSV reader for the run's own output files (metrics.csv,
// memory.csv, predictions/*.csv). Hand-written because these files are small,
// written by safetrain itself, and the reader must report file:line:column on
// bad input, which keeps it simpler than adapting a general CSV library.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace safetrain::eval {

class CsvTable {
 public:
  // Throws InputError when the file cannot be read, is empty, or a row's width differs from the header's.
  static CsvTable read(const std::filesystem::path& path);

  const std::vector<std::string>& header() const { return header_; }
  size_t rows() const { return cells_.size(); }
  std::optional<size_t> column(const std::string& name) const;
  size_t required_column(const std::string& name) const;  // InputError naming the file and key
  const std::string& text(size_t row, size_t column) const { return cells_[row][column]; }
  // The cell as a number; empty -> NaN; anything else unparsable -> InputError with file:line:column.
  double number(size_t row, size_t column) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> cells_;
  std::vector<size_t> line_numbers_;  // file line of each row, for messages
};

}  // namespace safetrain::eval
