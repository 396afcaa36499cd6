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

// Appends one flushed line per epoch, like Lightning's CSVLogger. On resume
// it keeps only the rows of epochs the checkpoint holds. Writes are checked:
// IoError / DiskFullError naming metrics.csv (checked_write.hpp).
class MetricsLog {
 public:
  MetricsLog(const std::filesystem::path& csv, int64_t keep_epochs_up_to = -1,
             std::vector<std::string> target_names = {});
  ~MetricsLog();
  // The columns of kMetricsColumns, then metrics_target_columns(target_names) (run_layout.hpp).
  void append(const EpochRecord& row);

 private:
  std::unique_ptr<CheckedFile> file_;
  std::vector<std::string> targets_;
};

}  // namespace safetrain::train
