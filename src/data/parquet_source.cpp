// Parquet through Arrow's Parquet reader: only the used columns are decoded (projection), one row group at
// a time, in record batches of about kBatchBytes, with the column chunks streamed rather than buffered whole,
// so the reader holds a few MB whatever the file's size. Nulls and NaN are missing values.
#include <arrow/io/api.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>

#include <algorithm>

#include "arrow_batch_source.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "table_formats.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

constexpr int64_t kBatchBytes = 8 << 20;  // float64 cells per record batch, at most (about)


bool is_number_type(const arrow::DataType& type) {
  return arrow::is_integer(type.id()) || arrow::is_floating(type.id()) || type.id() == arrow::Type::NA;
}

std::unique_ptr<parquet::arrow::FileReader> open_parquet(const fs::path& file, int64_t batch_rows, int64_t columns) {
  const std::string where = file.string();
  auto input = value_or_throw(arrow::io::ReadableFile::Open(file.string()), where + ": cannot open for reading");
  // The system allocator: Arrow's bundled jemalloc kept freed batches resident (5x the data at the peak).
  parquet::ReaderProperties reading(arrow::system_memory_pool());
  reading.enable_buffered_stream();  // pages streamed, not whole column chunks in memory
  // One buffer per column read: ~4 MB over all of them (1 MB each held 70 MB for a 70-column table).
  reading.set_buffer_size(std::clamp<int64_t>((4 << 20) / std::max<int64_t>(1, columns), 16 << 10, 1 << 20));
  auto arrow_reading = parquet::default_arrow_reader_properties();
  arrow_reading.set_batch_size(batch_rows);
  arrow_reading.set_pre_buffer(false);
  try {
    parquet::arrow::FileReaderBuilder builder;
    check_arrow(builder.Open(input, reading), where + ": not a readable Parquet file");
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

class ParquetSource final : public ArrowBatchSource {
 public:
  ParquetSource(const std::string& pattern, const CsvColumnRoles& roles);
  std::optional<int64_t> row_count() const override { return rows_; }
  int64_t row_upper_bound() const override { return rows_; }

 private:
  std::shared_ptr<arrow::RecordBatch> next_record_batch() override;
  void restart() override { open_file(0); }
  std::string cell_location(int64_t row_in_file, const std::string& column) const override;
  void classify(const arrow::Schema& schema, const CsvColumnRoles& roles);
  void check_same_schema(const arrow::Schema& schema, size_t index) const;
  void open_file(size_t index);
  bool open_row_group();  // the next row group of the file into batches_; false after the last

  std::shared_ptr<arrow::Schema> schema_;  // the first file's
  int64_t rows_ = 0;
  int64_t batch_rows_read_ = 1024;
  std::unique_ptr<parquet::arrow::FileReader> file_;
  std::unique_ptr<arrow::RecordBatchReader> batches_;
  int row_group_ = 0;
};

ParquetSource::ParquetSource(const std::string& pattern, const CsvColumnRoles& roles) {
  name_ = pattern;
  files_ = expand_glob(pattern);
  auto first = open_parquet(files_[0], 1024, 1);
  schema_ = schema_of(*first, files_[0]);
  classify(*schema_, roles);
  batch_rows_read_ =
      std::max<int64_t>(64, kBatchBytes / 8 / std::max<int64_t>(1, static_cast<int64_t>(columns_.size() + id_columns_.size())));
  for (size_t i = 0; i < files_.size(); ++i) {
    auto reader = i == 0 ? std::move(first) : open_parquet(files_[i], 1024, 1);
    if (i > 0) check_same_schema(*schema_of(*reader, files_[i]), i);
    rows_ += reader->parquet_reader()->metadata()->num_rows();
  }
  open_file(0);
}

void ParquetSource::classify(const arrow::Schema& schema, const CsvColumnRoles& roles) {
  check_roles_present(roles, schema.field_names(), files_[0]);
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
    if (is_number_type(type)) {
      columns_.push_back(name);
      continue;
    }
    const std::string what = std::string(arrow::is_nested(type.id()) ? "a nested Parquet type" : "a Parquet column") +
                             " of " + type.ToString() + ", not numbers";
    if (is_required_numeric(roles, name)) throw InputError(files_[0].string() + ": column '" + name + "' is " + what);
    log::info("data: column '", name, "' of ", files_[0].string(), " is ", what,
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
  batches_.reset();
  file_.reset();
  file_index_ = index;
  row_group_ = 0;
  const auto used = static_cast<int64_t>(columns_.size() + id_columns_.size());
  if (index < files_.size()) file_ = open_parquet(files_[index], batch_rows_read_, used);
}

bool ParquetSource::open_row_group() {
  batches_.reset();
  if (!file_ || row_group_ >= file_->num_row_groups()) return false;
  std::vector<int> leaves;
  const auto& fields = file_->manifest().schema_fields;
  for (const auto* names : {&columns_, &id_columns_}) {
    for (const auto& name : *names) leaves.push_back(fields[static_cast<size_t>(schema_->GetFieldIndex(name))].column_index);
  }
  batches_ = value_or_throw(file_->GetRecordBatchReader({row_group_++}, leaves), files_[file_index_].string());
  return true;
}

std::shared_ptr<arrow::RecordBatch> ParquetSource::next_record_batch() {
  while (file_) {
    if (batches_) {
      std::shared_ptr<arrow::RecordBatch> batch;
      check_arrow(batches_->ReadNext(&batch), files_[file_index_].string() + ": row group " +
                                                  std::to_string(row_group_) + " is damaged");
      if (batch) return batch;
    }
    if (!open_row_group()) open_file(file_index_ + 1);
  }
  return nullptr;
}

std::string ParquetSource::cell_location(int64_t row_in_file, const std::string&) const {
  return files_[file_index_].string() + ": row " + std::to_string(row_in_file + 1);
}

}  // namespace

std::unique_ptr<TableSource> open_parquet_source(const std::string& pattern, const TableReadOptions&,
                                                 const CsvColumnRoles& roles) {
  return std::make_unique<ParquetSource>(pattern, roles);
}

}  // namespace safetrain::data
