#include "safetrain/monitor/process_memory.hpp"

#include "safetrain/monitor/device_description.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>

#ifdef SAFETRAIN_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#include <torch/cuda.h>
#include <torch/version.h>
#endif

namespace safetrain::monitor {
namespace {

// Reads "<key>: <n> kB" from a /proc file; -1 when absent.
int64_t proc_kb_field(const char* path, const char* key) {
  std::FILE* file = std::fopen(path, "r");
  if (!file) return -1;
  char line[256];
  const size_t key_length = std::strlen(key);
  int64_t value = -1;
  while (std::fgets(line, sizeof line, file)) {
    if (std::strncmp(line, key, key_length) == 0 && line[key_length] == ':') {
      long long kb = 0;
      if (std::sscanf(line + key_length + 1, "%lld", &kb) == 1) value = kb * 1024;
      break;
    }
  }
  std::fclose(file);
  return value;
}

}  // namespace

int64_t current_rss_bytes() {
  // statm is one short line: cheaper than parsing /proc/self/status at 5 Hz.
  std::FILE* file = std::fopen("/proc/self/statm", "r");
  if (!file) return -1;
  long long size = 0, resident = 0;
  const int read = std::fscanf(file, "%lld %lld", &size, &resident);
  std::fclose(file);
  return read == 2 ? resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE)) : -1;
}

ResidentMemory resident_memory() {
  // statm's third field counts the resident file-backed and shared pages (RssFile + RssShmem since Linux 4.5).
  std::FILE* file = std::fopen("/proc/self/statm", "r");
  if (!file) return {};
  long long size = 0, resident = 0, shared = 0;
  const int read = std::fscanf(file, "%lld %lld %lld", &size, &resident, &shared);
  std::fclose(file);
  if (read != 3) return {};
  const auto page = static_cast<int64_t>(sysconf(_SC_PAGESIZE));
  return {resident * page, (resident - shared) * page, shared * page};
}

int64_t peak_rss_bytes() { return proc_kb_field("/proc/self/status", "VmHWM"); }
int64_t mem_available_bytes() { return proc_kb_field("/proc/meminfo", "MemAvailable"); }
int64_t mem_total_bytes() { return proc_kb_field("/proc/meminfo", "MemTotal"); }

DeviceMemory cuda_memory([[maybe_unused]] int device) {
  DeviceMemory m;
#ifdef SAFETRAIN_WITH_CUDA
  if (!torch::cuda::is_available()) return m;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
  // Index 0 is StatType::AGGREGATE; the enum moved namespaces in LibTorch 2.5, its value did not.
  m.allocated = stats.allocated_bytes[0].current;
  m.reserved = stats.reserved_bytes[0].current;
  m.peak_allocated = stats.allocated_bytes[0].peak;  // torch.cuda.max_memory_allocated
  m.peak_reserved = stats.reserved_bytes[0].peak;    // torch.cuda.max_memory_reserved
  size_t free_bytes = 0, total_bytes = 0;
  int integrated = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess &&
      cudaDeviceGetAttribute(&integrated, cudaDevAttrIntegrated, device) == cudaSuccess) {
    // On an integrated GPU the free figure is MemAvailable (device_memory_budget says why).
    const DeviceDescription description{true, integrated != 0, static_cast<int64_t>(free_bytes),
                                        static_cast<int64_t>(total_bytes), ""};
    const auto budget = device_memory_budget(description, integrated ? read_host_memory() : HostMemory{});
    m.free = budget.free_bytes;
    m.total = budget.total_bytes;
    m.shared_with_host = budget.shared_with_host;
  }
#endif
  return m;
}

}  // namespace safetrain::monitor
