#pragma once
// The run directory and its per-epoch metrics.csv.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace safetrain {
class CheckedFile;
}

namespace safetrain::train {

struct EpochRecord;
// Creates OUTPUT_DIR/RUN_NAME (timestamp when empty; a suffix when taken) and its sub-folders;
// the name is checked by check_run_name (run_layout.hpp).
std::filesystem::path create_run_dir(const std::string& output_dir, const std::string& run_name);

// Appends one flushed line per epoch, like Lightning's CSVLogger. The columns: kMetricsColumns, then
// metrics_target_columns(target_names) (run_layout.hpp), always, so every run's file starts the same; then any
// other figure the record holds, in the order it first appears. A figure first logged after rows were written
// gets its column by rewriting the file (atomically) with the wider header, the earlier rows with an empty
// cell, as Lightning's CSVLogger does. On resume it keeps only the rows of epochs the checkpoint holds, and the
// columns the file had. Writes are checked: IoError / DiskFullError naming metrics.csv (checked_write.hpp).
class MetricsLog {
 public:
  MetricsLog(const std::filesystem::path& csv, int64_t keep_epochs_up_to = -1,
             const std::vector<std::string>& target_names = {});
  ~MetricsLog();
  void append(const EpochRecord& row);
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  void add_columns(const std::vector<std::string>& added);
  std::filesystem::path path_;
  std::vector<std::string> columns_;  // the header, "epoch" first
  std::unique_ptr<CheckedFile> file_;
};

}  // namespace safetrain::train
