// memory.csv on a full disk: the monitor thread must not die (or take the run
// down), but the failure is logged with the file and recorded so the run
// cannot exit 0. Before, fprintf errors were ignored and the file silently cut.
#include <gtest/gtest.h>

#include <cerrno>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/output_status.hpp"
#include "safetrain/monitor/memory_monitor.hpp"

using namespace safetrain;
using namespace safetrain::monitor;

TEST(MemoryCsv, FullDiskIsLoggedAndRecordedNotIgnored) {
  reset_output_write_failures();
  MonitorOptions options;
  options.csv_path = testing_support::scratch_dir("memory_csv_full") / "memory.csv";
  inject_write_fault(WriteFault{ENOSPC, 300, "memory.csv"});
  testing::internal::CaptureStderr();
  {
    MemoryMonitor monitor(options);
    for (int i = 0; i < 20; ++i) monitor.sample_now("tick");
    EXPECT_EQ(monitor.recent_samples().size(), 20u);  // sampling carries on without the file
  }
  const std::string log = testing::internal::GetCapturedStderr();
  inject_write_fault(std::nullopt);
  EXPECT_NE(log.find("disk full at " + options.csv_path.string()), std::string::npos) << log;
  EXPECT_TRUE(output_write_failed());
  EXPECT_NE(first_output_write_failure().find("memory.csv"), std::string::npos);
  reset_output_write_failures();
}
