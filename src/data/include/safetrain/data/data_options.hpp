#pragma once
// The `data.*` settings and their defaults, declared once. The config schema
// (src/config) binds each key to a member here; the data layer takes these
// structs as they are. LibTorch-free, so the config library can hold them.
#include <cstdint>
#include <string>
#include <vector>

#include "safetrain/common/enum_names.hpp"

namespace safetrain::data {

enum class DataSource { synthetic, csv };
inline constexpr EnumName<DataSource> kDataSourceNames[] = {{"synthetic", DataSource::synthetic},
                                                            {"csv", DataSource::csv}};
constexpr const auto& enum_names(DataSource) { return kDataSourceNames; }

// The file format of data.path: by extension (auto), or named.
enum class TableFormat { automatic, csv, parquet };
inline constexpr EnumName<TableFormat> kTableFormatNames[] = {
    {"auto", TableFormat::automatic}, {"csv", TableFormat::csv}, {"parquet", TableFormat::parquet}};
constexpr const auto& enum_names(TableFormat) { return kTableFormatNames; }

// CSV dialect: the field delimiter ("auto" sniffs ',' ';' or tab from the header line), the quote
// character (empty: no quoting) and the decimal mark of the numbers ('.' or ',', as European exports write).
struct CsvDialect {
  std::string delimiter = "auto";
  std::string quote = "\"";
  std::string decimal = ".";
};

// How a table file is read: its format and, for CSV, its dialect.
struct TableReadOptions {
  TableFormat format = TableFormat::automatic;
  CsvDialect csv;
};

// Where the prepared table lives: in this process's memory, or in cache files that are memory-mapped
// (mapped_storage.hpp), for tables larger than RAM.
enum class Storage { memory, mmap };
inline constexpr EnumName<Storage> kStorageNames[] = {{"memory", Storage::memory}, {"mmap", Storage::mmap}};
constexpr const auto& enum_names(Storage) { return kStorageNames; }

// Missing cells in the training rows: refuse the data, drop those rows, or fill with the train mean.
enum class NanPolicy { error, drop_rows, fill_mean };
inline constexpr EnumName<NanPolicy> kNanPolicyNames[] = {
    {"error", NanPolicy::error}, {"drop_rows", NanPolicy::drop_rows}, {"fill_mean", NanPolicy::fill_mean}};
constexpr const auto& enum_names(NanPolicy) { return kNanPolicyNames; }

// Columns starting with this are targets-in-waiting: never features unless data.features lists them, so naming
// one target cannot turn another into an input (a target leak).
inline constexpr const char* kTargetLikePrefix = "target_";

// Target columns: a list of names, or every column starting with a prefix.
struct TargetColumns {
  std::vector<std::string> names{"x", "y", "z", "roll", "pitch", "yaw"};
  std::string prefix;  // used when `names` is empty
};

struct SplitOptions {
  double train_fraction = 0.8, val_fraction = 0.1, test_fraction = 0.1;
  // The user's own split (data.storage: memory): a text column of train/val/test labels (the fractions are then
  // unused), or a column of group names whose rows all land in one split (a scaffold id, a patient).
  std::string split_column, group_column;
  NanPolicy nan_policy = NanPolicy::error;
  bool standardize_targets = true;  // each target weighs the same in the loss, whatever its units
  uint64_t seed = 0;  // not a data.* key: the run's `seed`
};

struct WorkerOptions {
  int64_t num_workers = 2;       // loader threads per epoch; 0 = the consumer's thread
  int64_t max_workers = 2;       // the seed's cap
  int64_t prefetch_batches = 2;  // ready batches held at most
};

struct SyntheticOptions {
  int64_t rows = 20000;
  int64_t descriptor_columns = 48;
  double sensor_noise = 0.01;
  uint64_t seed = 0;  // not a data.* key: the run's `seed`
};

// How the CSV reader treats columns. A column that is neither numeric-required nor named here and whose first
// data cell is not a number (a SMILES string, a name) is skipped with one log line.
struct CsvColumnRoles {
  std::vector<std::string> id_columns;      // read as text and carried into every predictions file
  std::vector<std::string> ignore_columns;  // not read
  std::vector<std::string> numeric;         // must be numeric (targets, listed features): text there is an error
  std::string numeric_prefix;               // ... and so must every column with this prefix (targets by prefix)
  bool only_numeric = false;                // read no other numeric column (the run lists every column it uses)
  // data.nan_policy: error. A missing cell in a column the run surely uses is refused while reading (read_table,
  // the mmap conversion), named by file:line:column, instead of after the descriptor stage: in `numeric` and
  // `numeric_prefix` columns (targets, listed features), or in every column read but the target-like ones when
  // every column is a feature (no data.features, no pruner).
  enum class MissingCells { allowed, refused_in_required, refused_in_all };
  MissingCells missing = MissingCells::allowed;
};

struct DataOptions {
  DataSource source = DataSource::synthetic;
  std::string path;  // table file or glob (CSV, .csv.gz, .csv.zst, Parquet)
  TableReadOptions read;  // data.format, data.csv.*
  Storage storage = Storage::memory;
  TargetColumns targets;
  std::vector<std::string> features;  // empty = every non-target column
  std::vector<std::string> id_columns;      // text columns carried into predictions (data.id_columns)
  std::vector<std::string> ignore_columns;  // columns never read (data.ignore_columns)
  SplitOptions split;
  WorkerOptions workers;
  bool drop_last = false;
  SyntheticOptions synthetic;
};

}  // namespace safetrain::data
