#pragma once
// The run directory and its per-epoch metrics.csv.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace safetrain::train {

struct EpochRecord;

// Creates OUTPUT_DIR/RUN_NAME (timestamp when empty; a suffix when taken) and its sub-folders.
std::filesystem::path create_run_dir(const std::string& output_dir, const std::string& run_name);

// Appends one flushed line per epoch, like Lightning's CSVLogger. On resume
// it keeps only the rows of epochs the checkpoint holds.
class MetricsLog {
 public:
  MetricsLog(const std::filesystem::path& csv, int64_t keep_epochs_up_to = -1);
  void append(const EpochRecord& row);  // the columns of kMetricsColumns (run_layout.hpp)

 private:
  struct Closer { void operator()(std::FILE* f) const { if (f) std::fclose(f); } };
  std::unique_ptr<std::FILE, Closer> file_;
};

}  // namespace safetrain::train
