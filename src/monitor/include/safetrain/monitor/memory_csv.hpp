#pragma once
// memory.csv: one row per sample, collected and written every 5 samples and at every event row. A resumed
// run appends to its file and continues its clock. A failed write is logged once and recorded as an
// output-write failure (the run then cannot exit 0); sampling and the alarms carry on without the file.
// Not locked: MemoryMonitor calls it under its mutex.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "safetrain/common/checked_write.hpp"
#include "safetrain/monitor/sample.hpp"

namespace safetrain::monitor {

class MemoryCsv {
 public:
  // An empty path writes nothing.
  explicit MemoryCsv(const std::filesystem::path& path);
  // The time of the last sample of the file this run appends to (0 for a new file).
  double resumed_at_s() const { return resumed_at_s_; }
  // `samples_taken` counts this sample: every fifth, and every event row, is written out at once.
  void append(const Sample& sample, int64_t samples_taken);
  void flush();

 private:
  void open(const std::filesystem::path& path);

  std::unique_ptr<CheckedFile> file_;
  std::string pending_;
  double resumed_at_s_ = 0;
};

}  // namespace safetrain::monitor
