#include "safetrain/monitor/device_description.hpp"

#include "safetrain/monitor/process_memory.hpp"

#include "safetrain/device/accelerator.hpp"

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

DeviceDescription describe_cuda_device(int index) {
  const auto found = device::properties(index);
  if (!found.present) return {};
  return {true, found.integrated, found.free_bytes, found.total_bytes, found.name};
}

}  // namespace safetrain::monitor
