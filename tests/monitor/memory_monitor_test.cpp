#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "safetrain/device/accelerator.hpp"
#include "safetrain/monitor/memory_monitor.hpp"
#include "safetrain/monitor/nvml.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/monitor/system_info.hpp"
#include "../support/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace safetrain::monitor;

namespace {
fs::path temp_file(const std::string& name) {
  static const fs::path dir = safetrain::testing_support::scratch_dir("monitor_test");
  fs::remove(dir / name);
  return dir / name;
}
}  // namespace

TEST(ProcessMemory, ReadsPlausibleFigures) {
  EXPECT_GT(current_rss_bytes(), 1 << 20);
  EXPECT_GE(peak_rss_bytes(), current_rss_bytes() / 2);
  EXPECT_GT(mem_total_bytes(), mem_available_bytes());
  EXPECT_GT(mem_available_bytes(), 0);
  const auto device = cuda_memory(0);
  if (!safetrain::device::available()) {
    EXPECT_EQ(device.allocated, -1);
  }
}

TEST(MemoryMonitor, ThreadSamplesIntoCsvAndRingStaysAtCapacity) {
  MonitorOptions options;
  options.interval_ms = 10;
  options.ring_capacity = 16;
  options.csv_path = temp_file("memory.csv");
  {
    MemoryMonitor monitor(options);
    monitor.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_EQ(monitor.recent_samples().size(), 16u);  // more than 16 taken, 16 kept
    EXPECT_EQ(monitor.ring_bytes(), 16 * static_cast<int64_t>(sizeof(Sample)));
  }  // destructor stops and joins
  std::ifstream in(options.csv_path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, kMemoryCsvHeader);
  int rows = 0;
  for (std::string line; std::getline(in, line);) ++rows;
  EXPECT_GT(rows, 16);
}

TEST(MemoryMonitor, PhaseGrowthShowsWhereMemoryWent) {
  MemoryMonitor monitor(MonitorOptions{});
  std::vector<char> kept;
  {
    PhaseScope scope(&monitor, Phase::validate);
    kept.resize(64 << 20);
    std::memset(kept.data(), 1, kept.size());  // touched: resident
  }
  const auto report = monitor.report();
  EXPECT_GT(report["phases"]["validate"]["growth_mb_sum"].get<double>(), 50.0) << report.dump(2);
  EXPECT_EQ(report["phases"]["validate"]["entries"].get<int64_t>(), 1);
}

TEST(MemoryMonitor, PlantedEpochLeakIsReportedWithThePhase) {
  MonitorOptions options;
  options.warmup_epochs = 1;
  MemoryMonitor monitor(options);
  std::vector<std::vector<char>> leak;
  for (int64_t epoch = 1; epoch <= 6; ++epoch) {
    { PhaseScope train(&monitor, Phase::train); }
    {
      PhaseScope validate(&monitor, Phase::validate);
      leak.emplace_back(4 << 20, 1);  // 4 MB kept per validation
    }
    monitor.end_epoch(epoch);
  }
  const auto warnings = monitor.warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("validate grew"), std::string::npos) << warnings[0];
  EXPECT_EQ(monitor.report()["verdict"], "growing");
}

TEST(MemoryMonitor, CriticalAfterTrimAsksForAStop) {
  MonitorOptions options;
  options.critical_rss_mb = 1;  // any process is above 1 MB
  MemoryMonitor monitor(options);
  int trims = 0;
  monitor.set_trim_hook([&] { ++trims; });
  monitor.sample_now();
  EXPECT_EQ(trims, 1);
  EXPECT_TRUE(monitor.stop_requested());
  EXPECT_NE(monitor.stop_reason().find("critical_rss_mb"), std::string::npos);
  EXPECT_EQ(monitor.report()["verdict"].get<std::string>().rfind("stopped", 0), 0u);
}

TEST(MemoryMonitor, WarnLevelTrimsAndWarnsOnceWithoutStopping) {
  MonitorOptions options;
  options.warn_rss_mb = 1;
  MemoryMonitor monitor(options);
  int trims = 0;
  monitor.set_trim_hook([&] { ++trims; });
  monitor.sample_now();
  monitor.sample_now();
  EXPECT_EQ(trims, 2);
  EXPECT_EQ(monitor.warnings().size(), 1u);
  EXPECT_FALSE(monitor.stop_requested());
}

TEST(MemoryMonitor, NestedPhaseRestoresTheOuterOneAndWarningsGetARow) {
  MonitorOptions options;
  options.warn_rss_mb = 1;  // the first threshold check warns
  MemoryMonitor monitor(options);
  {
    PhaseScope load(&monitor, Phase::load);
    { PhaseScope descriptors(&monitor, Phase::descriptors); }
    monitor.sample_now();
  }
  const auto samples = monitor.recent_samples();
  const auto with_event = [&](const std::string& event) {
    for (const auto& s : samples) {
      if (s.event == event) return s;
    }
    ADD_FAILURE() << "no sample with event " << event;
    return Sample{};
  };
  EXPECT_EQ(with_event("enter descriptors").phase, Phase::descriptors);
  EXPECT_EQ(with_event("exit descriptors").phase, Phase::load);  // back in the outer phase, not idle
  EXPECT_EQ(with_event("warning").phase, Phase::load);           // memory.csv marks the warning in time
  EXPECT_EQ(with_event("exit load").phase, Phase::idle);
  EXPECT_STREQ(phase_name(Phase::descriptors), "descriptors");
}

TEST(SystemProbe, WorksWithoutAGpu) {
  const auto info = probe_system();
  EXPECT_GT(info.logical_cores, 0);
  EXPECT_FALSE(info.torch.torch_version.empty());
  EXPECT_NE(libtorch_summary(info).find(info.torch.torch_version), std::string::npos);
  if (info.torch.cuda) {
    EXPECT_FALSE(info.torch.cuda_version.empty());
  }
  if (info.devices.device_count == 0) {
    EXPECT_FALSE(info.devices.reason.empty());
  }
  EXPECT_FALSE(info.blas.empty());
  if (!Nvml::instance().available()) {
    EXPECT_TRUE(info.gpus.empty());
    EXPECT_FALSE(info.nvml_status.empty());
  }
}
