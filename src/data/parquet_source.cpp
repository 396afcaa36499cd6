// Parquet: the schema, the row count and the id columns through Arrow's Parquet reader; the numeric columns
// through parquet's low-level column readers (parquet_columns.hpp), page by page straight into the caller's
// float32 rows. Arrow's record-batch reader decodes a whole row group of the used columns before its first
// batch, which put the load peak at 3.4x the data on 100k x 70 (64k-row row groups). A row group is read a
// block of columns per thread at a time, so the readers hold that many pages: straight into the caller's rows
// when it takes the whole group (read_table), else into a float32 copy of the group that its parts are served
// from (the pruner's pair check, mmap conversion: as much as Arrow's reader held, less its own copies). The
// pruner's full reads go column-wise instead (read_columns), a column chunk straight into its column.
#include <arrow/io/api.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "arrow_status.hpp"
#include "cell_parse.hpp"
#include "parquet_columns.hpp"
#include "reader_threads.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "table_formats.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

// Columns read together, a block per thread: their readers hold the column chunk, a page and a dictionary each
// (~0.8 MB for a 64k-row float column), so a block is 1/32 of the columns, at most 16 (one 64-byte line of a
// row: a wide row's line is then written by one block, not fetched again by each of four). 16 readers at once
// put a 100k x 70 table's peak at 1.47x the data, 4 at 1.28x. The width depends on the table alone, not on
// the thread count, so the first refused cell reported is the same on any number of threads.
size_t columns_per_block(size_t columns) { return std::clamp<size_t>(columns / 32, 1, 16); }

// Threads reading blocks at once: their readers together hold at most 1/16 of the columns (2 to 64), so the
// readers' memory beside the data does not grow with the machine's cores (16 threads on 100k x 50 put the
// peak at 1.40x the data: their chunks, and the pool threads themselves).
size_t reading_threads(size_t columns, size_t width) {
  return std::max<size_t>(1, std::clamp<size_t>(columns / 16, 2, 64) / width);
}

// Rows a block converts column by column before the next rows: 1,024 rows of a 2,000-column table span 8 MB,
// which the TLB still covers; with 4,096 (a ReadBatch's most) one thread read 100k x 2,000 in 1.32 s, not 1.23 s.
constexpr int64_t kTileRows = 1024;

// The columns pandas stored its row index in (DataFrame.to_parquet: a RangeIndex is metadata alone, any other
// index a column such as __index_level_0__), from the "pandas" schema metadata; none when it is absent or
// unreadable (it is a hint, never a reason to refuse the file).
std::vector<std::string> pandas_index_columns(const arrow::Schema& schema) {
  const auto metadata = schema.metadata();
  if (!metadata) return {};
  const auto found = metadata->Get("pandas");
  if (!found.ok()) return {};
  const auto pandas = nlohmann::json::parse(*found, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> names;
  if (!pandas.is_object() || !pandas.contains("index_columns") || !pandas["index_columns"].is_array()) return names;
  for (const auto& column : pandas["index_columns"]) {
    if (column.is_string()) names.push_back(column.get<std::string>());
  }
  return names;
}

bool is_number_type(const arrow::DataType& type) {
  return arrow::is_integer(type.id()) || arrow::is_floating(type.id()) || type.id() == arrow::Type::NA;
}

// `metadata`: the file's footer as read before (a projection of an open source), so it is not parsed again
// (3.3 MB and ~30 ms for 2,000 columns in 15 row groups).
std::unique_ptr<parquet::arrow::FileReader> open_parquet(const fs::path& file,
                                                         std::shared_ptr<parquet::FileMetaData> metadata = nullptr) {
  const std::string where = file.string();
  auto input = value_or_throw(arrow::io::ReadableFile::Open(file.string()), where + ": cannot open for reading");
  // The system allocator: Arrow's bundled jemalloc kept freed pages resident. A column reader reads its
  // column chunk whole (one read; a block's chunks held): pyarrow 22's buffered stream, which streams
  // pages through a small buffer, wrote past that buffer when a page header's peek grew it (heap corruption
  // on a 20k x 1,000 table with 16 kB buffers).
  parquet::ReaderProperties reading(arrow::system_memory_pool());
  auto arrow_reading = parquet::default_arrow_reader_properties();
  arrow_reading.set_pre_buffer(false);
  try {
    parquet::arrow::FileReaderBuilder builder;
    check_arrow(builder.Open(input, reading, std::move(metadata)), where + ": not a readable Parquet file");
    builder.memory_pool(arrow::system_memory_pool());
    std::unique_ptr<parquet::arrow::FileReader> reader;
    check_arrow(builder.properties(arrow_reading)->Build(&reader), where + ": not a readable Parquet file");
    return reader;
  } catch (const parquet::ParquetException& e) {
    throw InputError(where + ": not a readable Parquet file: " + e.what());
  }
}

std::shared_ptr<arrow::Schema> schema_of(parquet::arrow::FileReader& reader, const fs::path& file) {
  std::shared_ptr<arrow::Schema> schema;
  check_arrow(reader.GetSchema(&schema), file.string() + ": not a readable Parquet file");
  return schema;
}

class ParquetSource final : public TableSource {
 public:
  ParquetSource(const std::string& pattern, const CsvColumnRoles& roles);
  // Over the files `opened` has read (their footers reused), with other roles: a projection.
  ParquetSource(const ParquetSource& opened, const CsvColumnRoles& roles);
  std::optional<int64_t> row_count() const override { return rows_; }
  int64_t row_upper_bound() const override { return rows_; }
  int64_t row_group_bytes() const override;
  int64_t read_rows(float* out, int64_t max_rows, TextColumns* ids) override;
  void rewind() override { open_file(0); }
  std::unique_ptr<TableSource> with_columns(const std::vector<std::string>& numeric_columns) const override;

 private:
  void classify(const arrow::Schema& schema, const CsvColumnRoles& roles);
  void check_same_schema(const arrow::Schema& schema, size_t index) const;
  void open_file(size_t index);
  bool next_row_group();  // false after the last file's last row group
  std::vector<ParquetColumnCursor> open_cursors(size_t first, size_t count) const;
  bool reads_columns() const override { return true; }
  int64_t read_columns(float* out, int64_t stride) override;

  // Where cell (r, c) of the group goes: out[r * row_step + c * column_step] (row-major: width, 1).
  struct Layout {
    float* out;
    int64_t row_step, column_step;
  };
  // The group's rows of columns [first, first + cursors.size()) into `to`.
  void read_block(std::vector<ParquetColumnCursor>& cursors, size_t first, const Layout& to, ParquetScratch& scratch);
  void read_whole_group(const Layout& to, size_t width);
  void read_group_rows(float* out, int64_t rows);
  void append_ids(int64_t rows, TextColumns& ids);

  struct RowGroup {  // where reading stands in the open file
    std::shared_ptr<parquet::RowGroupReader> reader;
    int index = -1;
    int64_t rows = 0, offset = 0;  // its rows, and those read
    int64_t first_row = 0;         // of the file, from 0
    std::vector<float> staged;  // the group's rows, while it is read in parts
    std::shared_ptr<arrow::Table> ids;         // its id columns, once asked for
  };
  std::shared_ptr<arrow::Schema> schema_;  // the first file's
  std::vector<std::shared_ptr<parquet::FileMetaData>> footers_;  // each file's, read once
  int64_t rows_ = 0;
  size_t file_index_ = 0;
  std::unique_ptr<parquet::arrow::FileReader> file_;
  std::vector<int> leaves_;  // the open file's leaf column of each of columns_
  std::vector<arrow::Type::type> types_;  // and its Arrow type
  std::vector<int> id_leaves_;
  RowGroup group_;
  ReaderThreads threads_;                  // column blocks are decoded in parallel
  std::vector<ParquetScratch> scratch_;    // one per thread
};

ParquetSource::ParquetSource(const std::string& pattern, const CsvColumnRoles& roles) {
  name_ = pattern;
  files_ = expand_glob(pattern);
  auto first = open_parquet(files_[0]);
  schema_ = schema_of(*first, files_[0]);
  classify(*schema_, roles);
  for (size_t i = 0; i < files_.size(); ++i) {
    auto reader = i == 0 ? std::move(first) : open_parquet(files_[i]);
    if (i > 0) check_same_schema(*schema_of(*reader, files_[i]), i);
    footers_.push_back(reader->parquet_reader()->metadata());
    rows_ += footers_.back()->num_rows();
  }
  open_file(0);
}

ParquetSource::ParquetSource(const ParquetSource& opened, const CsvColumnRoles& roles)
    : schema_(opened.schema_), footers_(opened.footers_), rows_(opened.rows_) {
  name_ = opened.name_;
  files_ = opened.files_;
  classify(*schema_, roles);
  open_file(0);
}

int64_t ParquetSource::row_group_bytes() const {
  int64_t largest = 0;
  for (const auto& footer : footers_) {
    for (int g = 0; g < footer->num_row_groups(); ++g) largest = std::max(largest, footer->RowGroup(g)->num_rows());
  }
  return largest * static_cast<int64_t>(columns_.size()) * static_cast<int64_t>(sizeof(float));
}

std::unique_ptr<TableSource> ParquetSource::with_columns(const std::vector<std::string>& numeric_columns) const {
  positions_of(numeric_columns);  // refuses a name this source does not read
  auto projected = std::make_unique<ParquetSource>(*this, projection_roles(numeric_columns));
  // Opened in schema order; the column chunks are read in the order asked for.
  const auto order = projected->positions_of(numeric_columns);
  projected->columns_ = numeric_columns;
  projected->leaves_ = picked(projected->leaves_, order);
  projected->types_ = picked(projected->types_, order);
  projected->set_batch_rows(batch_rows_);
  return projected;
}

void ParquetSource::classify(const arrow::Schema& schema, const CsvColumnRoles& roles) {
  check_roles_present(roles, schema.field_names(), files_[0]);
  const auto index_columns = pandas_index_columns(schema);
  for (const auto& field : schema.fields()) {
    const auto& name = field->name();
    const auto& type = *field->type();
    if (contains_name(roles.id_columns, name)) {
      if (arrow::is_nested(type.id())) {
        throw InputError(files_[0].string() + ": data.id_columns: column '" + name + "' is a nested Parquet type (" +
                         type.ToString() + "), not text");
      }
      id_columns_.push_back(name);
      continue;
    }
    if (contains_name(roles.ignore_columns, name) || (roles.only_numeric && !is_required_numeric(roles, name))) continue;
    if (contains_name(index_columns, name) && !is_required_numeric(roles, name)) {
      note_once("data: column '" + name + "' of " + files_[0].string() + " is the row index pandas wrote (its " +
                "pandas metadata says so): skipped; list it in data.id_columns to carry it into predictions");
      continue;
    }
    if (is_number_type(type)) {
      columns_.push_back(name);
      continue;
    }
    const std::string what = std::string(arrow::is_nested(type.id()) ? "a nested Parquet type" : "a Parquet column") +
                             " of " + type.ToString() + ", not numbers";
    if (is_required_numeric(roles, name)) throw InputError(files_[0].string() + ": column '" + name + "' is " + what);
    note_once("data: column '" + name + "' of " + files_[0].string() + " is " + what +
              ": skipped; list it in data.id_columns to carry it into predictions");
  }
}

void ParquetSource::check_same_schema(const arrow::Schema& schema, size_t index) const {
  check_same_columns(schema_->field_names(), schema.field_names(), files_[0], files_[index]);
  for (int i = 0; i < schema.num_fields(); ++i) {
    const auto& mine = *schema_->field(i)->type();
    const auto& theirs = *schema.field(i)->type();
    if (is_number_type(mine) == is_number_type(theirs) && arrow::is_nested(mine.id()) == arrow::is_nested(theirs.id())) {
      continue;
    }
    throw InputError(files_[index].string() + ": column '" + schema.field(i)->name() + "' is " + theirs.ToString() +
                     " but " + mine.ToString() + " in " + files_[0].string() +
                     "; every file of a glob must have the same columns");
  }
}

void ParquetSource::open_file(size_t index) {
  group_ = RowGroup{};
  file_.reset();
  file_index_ = index;
  if (index >= files_.size()) return;
  file_ = open_parquet(files_[index], footers_[index]);
  const auto schema = schema_of(*file_, files_[index]);
  const auto& fields = file_->manifest().schema_fields;
  const auto leaf_of = [&](const std::string& name) {
    return fields[static_cast<size_t>(schema->GetFieldIndex(name))].column_index;
  };
  leaves_.clear();
  types_.clear();
  id_leaves_.clear();
  for (const auto& name : columns_) {
    leaves_.push_back(leaf_of(name));
    types_.push_back(schema->GetFieldByName(name)->type()->id());
  }
  for (const auto& name : id_columns_) id_leaves_.push_back(leaf_of(name));
}

bool ParquetSource::next_row_group() {
  while (file_) {
    throw_if_stop_requested(("while reading " + name_).c_str());
    const int next = group_.index + 1;
    if (next < file_->num_row_groups()) {
      const int64_t first_row = group_.first_row + group_.rows;
      group_ = RowGroup{};
      group_.index = next;
      group_.first_row = first_row;
      try {
        group_.reader = file_->parquet_reader()->RowGroup(next);
      } catch (const parquet::ParquetException& e) {
        throw InputError(files_[file_index_].string() + ": row group " + std::to_string(next + 1) + " is damaged: " +
                         e.what());
      }
      group_.rows = group_.reader->metadata()->num_rows();
      if (group_.rows > 0) return true;
      continue;
    }
    open_file(file_index_ + 1);
  }
  return false;
}

std::vector<ParquetColumnCursor> ParquetSource::open_cursors(size_t first, size_t count) const {
  std::vector<ParquetColumnCursor> cursors;
  for (size_t c = first; c < first + count; ++c) {
    // A column of nulls only (Arrow's null type) is not read: every cell is missing.
    cursors.emplace_back(types_[c] == arrow::Type::NA ? nullptr : group_.reader->Column(leaves_[c]), types_[c]);
  }
  return cursors;
}

void ParquetSource::read_block(std::vector<ParquetColumnCursor>& cursors, size_t first, const Layout& to,
                               ParquetScratch& scratch) {
  for (int64_t done = 0; done < group_.rows; done += kTileRows) {
    const int64_t tile = std::min(group_.rows - done, kTileRows);
    for (size_t k = 0; k < cursors.size(); ++k) {
      const size_t column = first + k;
      float* at = to.out + done * to.row_step + static_cast<int64_t>(column) * to.column_step;
      std::string bad_cell;
      int64_t bad = -1;
      try {
        bad = cursors[k].read(tile, at, to.row_step, scratch, bad_cell);
      } catch (const parquet::ParquetException& e) {
        throw InputError(files_[file_index_].string() + ": column '" + columns_[column] + "' of row group " +
                         std::to_string(group_.index + 1) + " is damaged: " + e.what());
      }
      if (bad < 0) continue;
      throw InputError(files_[file_index_].string() + ": row " + std::to_string(group_.first_row + done + bad + 1) +
                       ": " + cell_error_text(CellError::not_finite, bad_cell, columns_[column]));
    }
  }
}

// Blocks of `width` columns on the reader threads (each writes its own cells): a column chunk decodes apart
// from the others, as Arrow's own reader does with use_threads, and its reader reads its bytes with pread,
// which is safe from several threads.
void ParquetSource::read_whole_group(const Layout& to, size_t width) {
  scratch_.resize(static_cast<size_t>(threads_.refresh(static_cast<int>(reading_threads(columns_.size(), width)))));
  const size_t blocks = (columns_.size() + width - 1) / width;
  threads_.each(blocks, [&](size_t block, size_t slot) {
    throw_if_stop_requested(("while reading " + name_).c_str());
    const size_t first = block * width;
    auto cursors = open_cursors(first, std::min(width, columns_.size() - first));
    read_block(cursors, first, to, scratch_[slot]);
  });
}

// Column-wise, a cursor writes its column's rows one after another, so a block is one column: no row of the
// group is shared between threads, and a thread's reader holds one chunk.
int64_t ParquetSource::read_columns(float* out, int64_t stride) {
  rewind();
  int64_t rows = 0;
  while (next_row_group()) {
    if (rows + group_.rows > stride) throw std::runtime_error(name_ + ": the input grew while it was read");
    read_whole_group({out + rows, 1, stride}, 1);
    rows += group_.rows;
    group_.offset = group_.rows;
  }
  return rows;
}

void ParquetSource::read_group_rows(float* out, int64_t rows) {
  const auto width = static_cast<int64_t>(columns_.size());
  const size_t block = columns_per_block(columns_.size());
  if (group_.staged.empty() && group_.offset == 0 && rows == group_.rows) return read_whole_group({out, width, 1}, block);
  if (group_.staged.empty()) {
    group_.staged.resize(static_cast<size_t>(group_.rows * width));
    read_whole_group({group_.staged.data(), width, 1}, block);
  }
  std::copy_n(group_.staged.data() + group_.offset * width, rows * width, out);
}

void ParquetSource::append_ids(int64_t rows, TextColumns& ids) {
  if (!group_.ids) {
    const std::string where = files_[file_index_].string() + ": row group " + std::to_string(group_.index + 1);
    check_arrow(file_->ReadRowGroup(group_.index, id_leaves_, &group_.ids), where);
    group_.ids = value_or_throw(group_.ids->CombineChunks(arrow::system_memory_pool()), where);
  }
  for (size_t k = 0; k < id_columns_.size(); ++k) {
    const auto& array = *group_.ids->GetColumnByName(id_columns_[k])->chunk(0);
    auto& values = ids.values[k];
    for (int64_t r = 0; r < rows; ++r) values.push_back(arrow_cell_text(array, group_.offset + r));
  }
}

int64_t ParquetSource::read_rows(float* out, int64_t max_rows, TextColumns* ids) {
  const auto width = static_cast<int64_t>(columns_.size());
  int64_t done = 0;
  while (done < max_rows) {
    if (group_.offset >= group_.rows && !next_row_group()) break;
    const int64_t rows = std::min(max_rows - done, group_.rows - group_.offset);
    read_group_rows(out + done * width, rows);
    if (ids && !id_columns_.empty()) append_ids(rows, *ids);
    group_.offset += rows;
    done += rows;
  }
  return done;
}

}  // namespace

std::unique_ptr<TableSource> open_parquet_source(const std::string& pattern, const TableReadOptions&,
                                                 const CsvColumnRoles& roles) {
  return std::make_unique<ParquetSource>(pattern, roles);  // the CSV dialect options do not apply
}

}  // namespace safetrain::data
