#pragma once
// Memory figures of this process, the system and (with CUDA) the device.
#include <cstdint>

namespace safetrain::monitor {

int64_t current_rss_bytes();    // /proc/self/statm resident pages

// Resident memory split as the kernel counts it: anonymous pages (heap, tensors; RssAnon) and file-backed or
// shared pages (libraries, memory-mapped data caches; RssFile + RssShmem), which the kernel can reclaim. Leaks
// and alarms are judged on the anonymous part. -1 when unknown.
struct ResidentMemory {
  int64_t total = -1, anon = -1, file = -1;
};
ResidentMemory resident_memory();
int64_t peak_rss_bytes();       // VmHWM from /proc/self/status
int64_t mem_available_bytes();  // MemAvailable from /proc/meminfo
int64_t mem_total_bytes();      // MemTotal

struct DeviceMemory {
  int64_t allocated = -1, reserved = -1, free = -1, total = -1;  // -1: unknown (no CUDA)
  int64_t peak_allocated = -1, peak_reserved = -1;                // the allocator's peaks since start
  bool shared_with_host = false;  // integrated GPU: free/total are MemAvailable/MemTotal
};
// Caching-allocator statistics and cudaMemGetInfo (MemAvailable on an integrated GPU); all -1
// without CUDA.
DeviceMemory cuda_memory(int device = 0);

}  // namespace safetrain::monitor
