#pragma once
// The one table-reading layer. A TableSource is a table file or a glob of them (CSV, .csv.gz, .csv.zst,
// Parquet; the format by extension or data.format) or rows already in memory, read in batches of the
// used columns: numeric columns as float32 (missing cells NaN), id columns as text. The trainer (memory
// and mmap storage), predict, descriptor_pipeline, check_system and the pruner's passes all read
// through it. A new file format is one file (a TableSource) plus one registry line in table_formats.cpp.
// Every malformed input is an InputError naming the file, the row (the line for CSV) and the column.
#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "safetrain/common/text_columns.hpp"
#include "safetrain/data/data_options.hpp"
#include "safetrain/data/table.hpp"

namespace safetrain::data {

class TableSource {
 public:
  virtual ~TableSource() = default;
  const std::vector<std::string>& columns() const { return columns_; }  // the numeric columns read, in order
  const std::vector<std::string>& id_columns() const { return id_columns_; }
  const std::string& name() const { return name_; }                  // the path or glob, for messages
  const std::vector<std::filesystem::path>& files() const { return files_; }
  // Rows, when known without reading them (Parquet's metadata, a tensor); else nullopt.
  virtual std::optional<int64_t> row_count() const = 0;
  // At least as many rows as the source holds (CSV: its data lines), for sizing one buffer.
  virtual int64_t row_upper_bound() const = 0;
  // The float32 bytes of its largest row group of the columns read (Parquet): what it holds beside the
  // caller's rows while it serves a group in parts (the mmap conversion reads 1,024 rows at a time). 0 for
  // formats read in small blocks (CSV).
  virtual int64_t row_group_bytes() const { return 0; }
  // The next rows' numeric cells into out[rows x columns().size()], row-major, and their id cells onto
  // `ids` (may be null); returns the rows read, 0 after the last row. Honours stop signals between batches.
  // Asked for many rows at once, a source converts straight into `out` (Parquet: whole row groups) or in
  // parallel (CSV: one piece of text per intra-op thread); a few rows at a time are served from a copy.
  virtual int64_t read_rows(float* out, int64_t max_rows, TextColumns* ids) = 0;
  // The next batch_rows() rows as float32 [rows, columns] (nullopt at the end): the pruner's passes.
  virtual std::optional<torch::Tensor> next_batch();
  virtual void rewind() = 0;  // back to the first row
  // Whether read_columns works: the format stores columns (Parquet), so reading column-wise costs no more than
  // reading rows. CSV does not: its columns come from rows and a transpose (as the pruner's load does).
  virtual bool reads_columns() const { return false; }
  // Every row from the first, each column contiguous: cell (r, c) at out[c * stride + r]; the rows read.
  // Parquet decodes each column chunk straight into its column, with no row group staged. A source of more
  // than `stride` rows is an error (the input grew since it was counted); std::logic_error where
  // reads_columns() is false. Leaves the source at its end.
  virtual int64_t read_columns(float* out, int64_t stride);
  // A new source over the same rows that reads only `numeric_columns` (columns of this one, in the order
  // given) and no id columns, from the first row, in batches of batch_rows(): Parquet then reads only their
  // column chunks, CSV converts only their cells, a tensor copies only them. The pruner reads the few
  // columns it compares, and its survivors, this way. InputError for a name not in columns(), or repeated.
  virtual std::unique_ptr<TableSource> with_columns(const std::vector<std::string>& numeric_columns) const = 0;
  // Identifies the content for caches: paths, sizes and modification times of the files (tensors: a hash).
  virtual std::string fingerprint() const;
  int64_t batch_rows() const { return batch_rows_; }
  void set_batch_rows(int64_t rows);

 protected:
  // The positions in columns() of `names` (with_columns' argument); InputError for an unknown or repeated name.
  std::vector<int64_t> positions_of(const std::vector<std::string>& names) const;

  std::vector<std::string> columns_, id_columns_;
  std::string name_;
  std::vector<std::filesystem::path> files_;
  int64_t batch_rows_ = 8192;
};

// Sorted matches of a glob (or the one path; a directory means its files at any depth, as a Spark or
// pyarrow.dataset directory holds them, without names that start with _ or .); InputError when nothing
// matches, or when a match is not a regular file (a FIFO, a device such as /dev/zero, a directory among the
// matches of a glob): a table is read more than once.
std::vector<std::filesystem::path> expand_glob(const std::string& pattern);

// The format of `path` by its extension (.csv, .tsv, .txt, .csv.gz, .csv.zst, .parquet, .pq), or
// `options.format` when that names one; InputError for an unknown extension under `auto`.
TableFormat table_format_of(const std::filesystem::path& path, TableFormat requested);

// Opens a file or glob with the registry's reader for its format (the first file's decides; every file of
// a glob must have the same columns, else an InputError names both files).
std::unique_ptr<TableSource> open_table_source(const std::string& path_or_glob, const TableReadOptions& options,
                                               const CsvColumnRoles& roles = {});

// What read_table allocated for the values: the bytes of its largest float32 buffer (counted, not measured).
struct TableReadStats {
  int64_t rows = 0, columns = 0;
  int64_t buffer_bytes = 0;
};

// The whole source as one table: the rows are counted (or bounded) first, then every batch converts straight
// into one float32 buffer of rows x numeric columns (nothing else of the table's size is allocated).
Table read_table(TableSource& source, TableReadStats* stats = nullptr);
Table read_table(const std::string& path_or_glob, const TableReadOptions& options = {},
                 const CsvColumnRoles& roles = {}, TableReadStats* stats = nullptr);

}  // namespace safetrain::data
