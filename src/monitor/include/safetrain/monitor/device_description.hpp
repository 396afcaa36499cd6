#pragma once
// What the safe-instantiation check, the monitor and check_system need to know about a CUDA
// device, and the one decision integrated GPUs (Jetson-class boards) change: where the device's
// free memory comes from. The decision is a pure function, tested with faked descriptions.
#include <cstdint>
#include <string>

namespace safetrain::monitor {

// A plain description: filled from CUDA by describe_cuda_device, or by hand in tests.
struct DeviceDescription {
  bool cuda = false;        // a CUDA device exists at this index
  bool integrated = false;  // cudaDevAttrIntegrated: the GPU has no memory of its own
  int64_t free_bytes = -1, total_bytes = -1;  // cudaMemGetInfo; -1 when unknown
  std::string name;
};

// /proc/meminfo figures in bytes; -1 when unknown.
struct HostMemory {
  int64_t available_bytes = -1, total_bytes = -1;
};

// The device memory to budget against, and where the figure came from (logged and reported).
struct DeviceMemoryBudget {
  int64_t free_bytes = -1, total_bytes = -1;
  bool shared_with_host = false;  // host and device draw on one pool: both budgets are MemAvailable
  std::string source;
};

// Discrete GPU: cudaMemGetInfo. Integrated GPU: MemAvailable / MemTotal, because cudaMemGetInfo
// there leaves out reclaimable page cache and host and device share the memory; it falls back to
// cudaMemGetInfo (and says so) when /proc/meminfo is unreadable. No CUDA device: all -1.
DeviceMemoryBudget device_memory_budget(const DeviceDescription& device, const HostMemory& host);

// The one line the monitor and check_system print for an integrated device; empty otherwise.
std::string shared_memory_note(const DeviceDescription& device);

HostMemory read_host_memory();
// The CUDA device at `index` (cudaDeviceGetAttribute, cudaMemGetInfo); {cuda = false} in a build
// without CUDA, without a visible device, or for a missing index.
DeviceDescription describe_cuda_device(int index);

}  // namespace safetrain::monitor
