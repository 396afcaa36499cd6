#include "safetrain/monitor/device_description.hpp"

#include "safetrain/monitor/process_memory.hpp"

#ifdef SAFETRAIN_WITH_CUDA
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#include <torch/cuda.h>
#endif

namespace safetrain::monitor {

DeviceMemoryBudget device_memory_budget(const DeviceDescription& device, const HostMemory& host) {
  if (!device.cuda) return {-1, -1, false, "no CUDA device"};
  if (!device.integrated) return {device.free_bytes, device.total_bytes, false, "cudaMemGetInfo free"};
  if (host.available_bytes < 0) {
    return {device.free_bytes, device.total_bytes, true,
            "cudaMemGetInfo free (integrated GPU, but /proc/meminfo is unreadable: the figure leaves out "
            "reclaimable page cache)"};
  }
  return {host.available_bytes, host.total_bytes >= 0 ? host.total_bytes : device.total_bytes, true,
          "/proc/meminfo MemAvailable (integrated GPU: host and device share one memory pool, and "
          "cudaMemGetInfo leaves out reclaimable page cache)"};
}

std::string shared_memory_note(const DeviceDescription& device) {
  if (!device.cuda || !device.integrated) return "";
  return "integrated GPU " + (device.name.empty() ? std::string("(unnamed)") : device.name) +
         ": host and device share one memory pool; both budgets use /proc/meminfo MemAvailable";
}

HostMemory read_host_memory() { return {mem_available_bytes(), mem_total_bytes()}; }

DeviceDescription describe_cuda_device([[maybe_unused]] int index) {
  DeviceDescription device;
#ifdef SAFETRAIN_WITH_CUDA
  if (!torch::cuda::is_available() || index < 0 || index >= static_cast<int>(torch::cuda::device_count()))
    return device;
  int integrated = 0;
  cudaDeviceProp properties{};
  if (cudaDeviceGetAttribute(&integrated, cudaDevAttrIntegrated, index) != cudaSuccess ||
      cudaGetDeviceProperties(&properties, index) != cudaSuccess)
    return device;
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) return device;
  device = {true, integrated != 0, static_cast<int64_t>(free_bytes), static_cast<int64_t>(total_bytes),
            properties.name};
#endif
  return device;
}

}  // namespace safetrain::monitor
