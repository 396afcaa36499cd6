#include "safetrain/common/memory_limits.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "safetrain/common/error.hpp"

namespace safetrain {
namespace {

constexpr int64_t kMb = 1024 * 1024;
// See runtime_address_space_bytes.
constexpr int64_t kRuntimeHeadroomBytes = 64 * kMb;
constexpr int64_t kRuntimePerThreadBytes = 150 * kMb;

// "<key> <n> kB" from a /proc file, in kB; -1 when absent.
int64_t read_kb_field(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string word;
  while (in >> word) {
    if (word != key) continue;
    int64_t kb = -1;
    in >> kb;
    return kb;
  }
  return -1;
}

// A single integer read from a file; -1 when absent or "max" (no limit).
int64_t read_integer_file(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return -1;
  try {
    return std::stoll(word);
  } catch (const std::exception&) {
    return -1;
  }
}

int64_t vm_size_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoll(line.substr(7)) * 1024;
  }
  return -1;
}

std::string mb_text(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f MB", static_cast<double>(bytes) / static_cast<double>(kMb));
  return text;
}

}  // namespace

int64_t MemoryLimits::address_space_left() const {
  if (address_space_limit < 0) return -1;
  return std::max<int64_t>(0, address_space_limit - std::max<int64_t>(0, address_space_used));
}

int64_t MemoryLimits::cgroup_left() const {
  if (cgroup_limit < 0) return -1;
  return std::max<int64_t>(0, cgroup_limit - std::max<int64_t>(0, cgroup_usage));
}

std::string MemoryLimits::summary() const {
  std::string text = "address space ";
  text += address_space_limit < 0 ? "unlimited"
                                  : mb_text(address_space_limit) + " (ulimit -v / RLIMIT_AS; " +
                                        mb_text(address_space_left()) + " left)";
  text += ", cgroup ";
  text += cgroup_limit < 0 ? "no limit"
                           : mb_text(cgroup_limit) + " (" + cgroup_source + "; " + mb_text(cgroup_left()) + " left)";
  return text;
}

MemoryLimits read_memory_limits(const std::string& cgroup_root) {
  MemoryLimits limits;
  struct rlimit address_space {};
  if (::getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY) {
    limits.address_space_limit = static_cast<int64_t>(address_space.rlim_cur);
  }
  limits.address_space_used = vm_size_bytes();
  int64_t limit = read_integer_file(cgroup_root + "/memory.max");
  int64_t usage = read_integer_file(cgroup_root + "/memory.current");
  limits.cgroup_source = cgroup_root + "/memory.max";
  if (limit < 0) {
    limit = read_integer_file(cgroup_root + "/memory/memory.limit_in_bytes");
    usage = read_integer_file(cgroup_root + "/memory/memory.usage_in_bytes");
    limits.cgroup_source = cgroup_root + "/memory/memory.limit_in_bytes";
  }
  // cgroup v1 reports "no limit" as a huge page-aligned number.
  if (limit >= 0 && limit < (int64_t{1} << 60)) {
    limits.cgroup_limit = limit;
    limits.cgroup_usage = usage;
  } else {
    limits.cgroup_source.clear();
  }
  return limits;
}

MemoryLimits read_memory_limits() { return read_memory_limits("/sys/fs/cgroup"); }

int blas_threads() {
  for (const char* name : {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && std::atoi(value) > 0) return std::atoi(value);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int64_t runtime_address_space_bytes(int threads) {
  // What is mapped already (LibTorch and its libraries: ~2.8 GB for the CUDA wheel's, most of it
  // never touched; ~0.6 GB for a CPU LibTorch), plus the thread pools still to start. Measured on
  // Debian 12 with the torch 2.11 wheel: VmSize 2826 MB when this check runs, VmPeak of a 1,500-row
  // quickstart run 2931 MB with 1 thread and 3081 MB with 2. Each thread adds glibc's malloc arena
  // reservation, its stack and the BLAS buffers (~150 MB of address space, little of it touched);
  // under such a limit the pools spun forever instead of failing.
  const int64_t mapped = std::max<int64_t>(0, read_kb_field("/proc/self/status", "VmSize:") * 1024);
  return mapped + kRuntimeHeadroomBytes + static_cast<int64_t>(std::max(1, threads)) * kRuntimePerThreadBytes;
}

void refuse_small_address_space(const MemoryLimits& limits, int threads) {
  if (limits.address_space_limit < 0) return;
  const int64_t need = runtime_address_space_bytes(threads);
  if (limits.address_space_limit >= need) return;
  throw ResourceError("the address-space limit (ulimit -v / RLIMIT_AS) is " + mb_text(limits.address_space_limit) +
                      ", but LibTorch and its BLAS/OpenMP pools with " + std::to_string(threads) + " thread(s) need about " +
                      mb_text(need) + " before any data; use fewer threads (training.threads, " +
                      "OPENBLAS_NUM_THREADS, OMP_NUM_THREADS) or raise the limit (ulimit -v, prlimit --as)");
}

}  // namespace safetrain
