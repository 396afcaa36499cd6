#include "safetrain/monitor/process_memory.hpp"

#include "safetrain/monitor/device_description.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "safetrain/device/accelerator.hpp"

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

DeviceMemory cuda_memory(int index) {
  DeviceMemory m;
  const auto stats = device::allocator_stats(index);
  if (stats.allocated < 0) return m;  // no device at this index
  m.allocated = stats.allocated;
  m.reserved = stats.reserved;
  m.peak_allocated = stats.peak_allocated;  // torch.cuda.max_memory_allocated
  m.peak_reserved = stats.peak_reserved;    // torch.cuda.max_memory_reserved
  const DeviceDescription description = describe_cuda_device(index);
  if (description.cuda) {
    // On an integrated GPU the free figure is MemAvailable (device_memory_budget says why).
    const auto budget = device_memory_budget(description, description.integrated ? read_host_memory() : HostMemory{});
    m.free = budget.free_bytes;
    m.total = budget.total_bytes;
    m.shared_with_host = budget.shared_with_host;
  }
  return m;
}

}  // namespace safetrain::monitor
