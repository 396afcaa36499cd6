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

#include "safetrain/data/data_options.hpp"
#include "safetrain/data/table.hpp"

namespace safetrain::data {

// Sorted matches of a glob (or the one path); InputError when nothing matches.
std::vector<std::filesystem::path> expand_glob(const std::string& pattern);

// Rows in batches of `batch_rows`, file after file: memory is bounded by the batch.
class CsvBatchReader {
 public:
  CsvBatchReader(const std::string& path_or_glob, int64_t batch_rows, CsvColumnRoles roles = {});
  ~CsvBatchReader();
  CsvBatchReader(CsvBatchReader&&) noexcept;
  CsvBatchReader& operator=(CsvBatchReader&&) noexcept;

  const std::vector<std::string>& columns() const { return columns_; }  // the numeric columns read
  const std::vector<std::string>& id_columns() const { return ids_.names; }
  std::optional<Table> next_batch();  // nullopt after the last row of the last file
  // The next row's numeric cells into out[0, columns().size()) and its id cells onto `ids`; false at the end.
  bool read_row(float* out, TextColumns& ids);
  void rewind();                      // back to the first row of the first file
  const std::vector<std::filesystem::path>& files() const { return files_; }

 private:
  bool open_file(size_t index);  // false past the last file
  void check_first_header(const std::filesystem::path& path) const;
  void check_same_header(const std::vector<std::string>& header, const std::filesystem::path& path) const;  // throws
  void classify_columns(const std::string& first_row);  // numeric, id or skipped, from the roles and row 1
  bool next_line();  // the next data line into line_ (the peeked first row first); false past the last file
  void parse_row(int64_t width, float* cells, TextColumns& ids) const;
  struct FileCloser { void operator()(std::FILE* f) const { if (f) std::fclose(f); } };

  std::string pattern_;
  int64_t batch_rows_;
  std::vector<std::filesystem::path> files_;
  CsvColumnRoles roles_;
  std::vector<std::string> header_;   // every column of the files
  std::vector<std::string> columns_;  // the numeric ones
  enum class Kind { numeric, id, skip };
  std::vector<Kind> kinds_;           // per header column
  TextColumns ids_;                   // names only
  bool pending_line_ = false;         // line_ holds the first data row, read ahead to classify columns
  size_t file_index_ = 0;
  std::unique_ptr<std::FILE, FileCloser> file_;
  int64_t line_number_ = 0;
  std::string line_;
};

// What read_csv allocated for the values: the bytes of its largest float32 buffer (counted, not measured).
struct CsvReadStats {
  int64_t rows = 0, columns = 0;
  int64_t buffer_bytes = 0;
};

// Data lines of one CSV file (lines with a non-blank character, less the header): an upper bound on its rows.
int64_t count_data_lines(const std::filesystem::path& file);

// The whole input as one table: the rows are counted first, then every cell parses straight into one
// float32 buffer of rows x numeric columns (nothing else of the table's size is ever allocated).
Table read_csv(const std::string& path_or_glob, const CsvColumnRoles& roles = {}, CsvReadStats* stats = nullptr);

}  // namespace safetrain::data
