#pragma once
// CSV input: one file or a glob of files with the same header, numeric cells
// parsed with std::from_chars, missing cells (empty, NA, nan) as NaN. Every
// malformed input is an InputError naming file, line and column.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetrain/data/table.hpp"

namespace safetrain::data {

// Sorted matches of a glob (or the one path); InputError when nothing matches.
std::vector<std::filesystem::path> expand_glob(const std::string& pattern);

// Rows in batches of `batch_rows`, file after file: memory is bounded by the batch.
class CsvBatchReader {
 public:
  CsvBatchReader(const std::string& path_or_glob, int64_t batch_rows);
  ~CsvBatchReader();
  CsvBatchReader(CsvBatchReader&&) noexcept;
  CsvBatchReader& operator=(CsvBatchReader&&) noexcept;

  const std::vector<std::string>& columns() const { return columns_; }
  std::optional<Table> next_batch();  // nullopt after the last row of the last file
  void rewind();                      // back to the first row of the first file
  const std::vector<std::filesystem::path>& files() const { return files_; }

 private:
  bool open_file(size_t index);  // false past the last file
  struct FileCloser { void operator()(std::FILE* f) const { if (f) std::fclose(f); } };

  std::string pattern_;
  int64_t batch_rows_;
  std::vector<std::filesystem::path> files_;
  std::vector<std::string> columns_;
  size_t file_index_ = 0;
  std::unique_ptr<std::FILE, FileCloser> file_;
  int64_t line_number_ = 0;
  std::string line_;
};

// The whole input as one table (read once, batch by batch).
Table read_csv(const std::string& path_or_glob);

}  // namespace safetrain::data
