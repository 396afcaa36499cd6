// The integrated-GPU decision (Jetson-class boards share the host's memory) with faked device
// descriptions, so it is checked on a machine without any GPU.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "safetrain/device/accelerator.hpp"
#include "safetrain/monitor/device_description.hpp"
#include "safetrain/monitor/memory_monitor.hpp"
#include "safetrain/monitor/process_memory.hpp"

using namespace safetrain::monitor;

namespace {
constexpr int64_t kMb = 1024 * 1024;

// A 4 GB Jetson-class board: cudaMemGetInfo sees 900 MB free while page cache holds the rest.
DeviceDescription jetson_board() { return {true, true, 900 * kMb, 3956 * kMb, "Orin (faked)"}; }
DeviceDescription discrete_card() { return {true, false, 3800 * kMb, 4096 * kMb, "GTX 1650 (faked)"}; }
const HostMemory kHost{2900 * kMb, 3956 * kMb};
}  // namespace

TEST(DeviceMemoryBudget, DiscreteGpuUsesCudaMemGetInfo) {
  const auto budget = device_memory_budget(discrete_card(), kHost);
  EXPECT_EQ(budget.free_bytes, 3800 * kMb);
  EXPECT_EQ(budget.total_bytes, 4096 * kMb);
  EXPECT_FALSE(budget.shared_with_host);
  EXPECT_EQ(budget.source, "cudaMemGetInfo free");
  EXPECT_EQ(shared_memory_note(discrete_card()), "");
}

TEST(DeviceMemoryBudget, IntegratedGpuUsesMemAvailableAndSaysSo) {
  const auto budget = device_memory_budget(jetson_board(), kHost);
  EXPECT_EQ(budget.free_bytes, 2900 * kMb);
  EXPECT_EQ(budget.total_bytes, 3956 * kMb);
  EXPECT_TRUE(budget.shared_with_host);
  EXPECT_NE(budget.source.find("MemAvailable"), std::string::npos) << budget.source;
  EXPECT_NE(budget.source.find("integrated"), std::string::npos) << budget.source;
  const std::string note = shared_memory_note(jetson_board());
  EXPECT_NE(note.find("Orin (faked)"), std::string::npos) << note;
  EXPECT_NE(note.find("MemAvailable"), std::string::npos) << note;
}

TEST(DeviceMemoryBudget, IntegratedWithoutMeminfoFallsBackAndSaysWhy) {
  const auto budget = device_memory_budget(jetson_board(), HostMemory{});
  EXPECT_EQ(budget.free_bytes, 900 * kMb);
  EXPECT_TRUE(budget.shared_with_host);
  EXPECT_NE(budget.source.find("unreadable"), std::string::npos) << budget.source;
}

TEST(DeviceMemoryBudget, NoCudaDeviceIsUnknown) {
  const auto budget = device_memory_budget(DeviceDescription{}, kHost);
  EXPECT_EQ(budget.free_bytes, -1);
  EXPECT_FALSE(budget.shared_with_host);
  EXPECT_EQ(shared_memory_note(DeviceDescription{}), "");
}

TEST(DeviceMemoryBudget, DescribesTheRealDeviceConsistently) {
  const auto device = describe_cuda_device(0);
  EXPECT_EQ(device.cuda, safetrain::device::available());
  if (device.cuda) {
    EXPECT_GT(device.total_bytes, 0);
    EXPECT_FALSE(device.name.empty());
  }
  EXPECT_FALSE(describe_cuda_device(1 << 20).cuda);  // no such index
  EXPECT_GT(read_host_memory().available_bytes, 0);
}

TEST(MemoryMonitor, ReportsWhenTheDeviceSharesHostMemory) {
  MemoryMonitor monitor(MonitorOptions{});
  monitor.describe_device(discrete_card());
  auto report = monitor.report();
  EXPECT_FALSE(report["device_shares_host_memory"].get<bool>());
  EXPECT_EQ(report["device_memory_source"], "cudaMemGetInfo free");

  monitor.describe_device(jetson_board());
  report = monitor.report();
  EXPECT_TRUE(report["device_shares_host_memory"].get<bool>());
  EXPECT_NE(report["device_memory_source"].get<std::string>().find("MemAvailable"), std::string::npos);

  monitor.describe_device(DeviceDescription{});
  EXPECT_TRUE(monitor.report()["device_memory_source"].is_null());
}

TEST(MemoryMonitor, MemAvailableStopNamesTheSharedPool) {
  MonitorOptions options;
  options.min_available_mb = 1e9;  // always below: the floor trips on the first sample
  MemoryMonitor monitor(options);
  monitor.set_trim_hook([] {});
  monitor.describe_device(jetson_board());
  monitor.sample_now();
  ASSERT_TRUE(monitor.stop_requested());
  EXPECT_NE(monitor.stop_reason().find("integrated GPU"), std::string::npos) << monitor.stop_reason();
}

// CUDA-only tests: the suite name starts with Cuda (`ctest -R Cuda` on a GPU machine) and each
// skips itself without a CUDA device, so CI reports them as skipped, never failed.
TEST(CudaDevice, DescriptionAndAllocatorFiguresAgree) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const auto device = describe_cuda_device(0);
  ASSERT_TRUE(device.cuda);
  EXPECT_GT(device.total_bytes, device.free_bytes);
  EXPECT_GT(device.free_bytes, 0);
  const auto before = cuda_memory(0);
  auto block = torch::ones({64 * kMb / 4}, torch::TensorOptions().device(torch::kCUDA));
  const auto during = cuda_memory(0);
  EXPECT_GE(during.allocated - before.allocated, 64 * kMb);
  EXPECT_GE(during.peak_allocated, during.allocated);
  EXPECT_GE(during.reserved, during.allocated);
  const auto budget = device_memory_budget(device, read_host_memory());
  EXPECT_EQ(budget.shared_with_host, device.integrated) << budget.source;
  EXPECT_EQ(during.shared_with_host, device.integrated);
  if (!device.integrated) {
    EXPECT_LE(during.free, device.total_bytes);
  }
}

TEST(CudaDevice, MonitorReportsTheAllocatorPeaks) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  MemoryMonitor monitor(MonitorOptions{});
  { auto block = torch::ones({32 * kMb / 4}, torch::TensorOptions().device(torch::kCUDA)); }
  const auto report = monitor.report();
  ASSERT_FALSE(report["device_max_allocated_mb"].is_null());
  EXPECT_GE(report["device_max_allocated_mb"].get<double>(), 32.0);
  EXPECT_GE(report["device_max_reserved_mb"].get<double>(), report["device_max_allocated_mb"].get<double>());
  EXPECT_FALSE(report["device_memory_source"].is_null());
}

TEST(MemoryMonitor, AllocatorPeaksAreNullWithoutCuda) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "checks the CPU-only report";
  const auto report = MemoryMonitor(MonitorOptions{}).report();
  EXPECT_TRUE(report["device_max_allocated_mb"].is_null());
  EXPECT_TRUE(report["device_max_reserved_mb"].is_null());
}
