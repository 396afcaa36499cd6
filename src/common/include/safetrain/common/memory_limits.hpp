#pragma once
// The memory limits a process runs under besides physical RAM: the address-space
// rlimit (ulimit -v, prlimit --as) and the cgroup's memory limit (v2 memory.max,
// v1 memory.limit_in_bytes). Read at start so a limit that cannot hold the
// runtime is refused with numbers instead of hanging in a thread pool's setup.
#include <cstdint>
#include <string>

namespace safetrain {

struct MemoryLimits {
  int64_t address_space_limit = -1;  // RLIMIT_AS soft limit in bytes; -1: unlimited
  int64_t address_space_used = -1;   // VmSize of this process in bytes; -1: unknown
  int64_t cgroup_limit = -1;         // bytes; -1: no limit (or no cgroup file)
  int64_t cgroup_usage = -1;         // bytes charged to the cgroup; -1: unknown
  std::string cgroup_source;         // the file the limit came from

  // Address space left under RLIMIT_AS, or -1 without a limit.
  int64_t address_space_left() const;
  // Room left under the cgroup limit, or -1 without a limit.
  int64_t cgroup_left() const;
  // One line for logs and check_system, e.g. "address space 1024 MB (ulimit -v), cgroup none".
  std::string summary() const;
};

MemoryLimits read_memory_limits();

// Reads from `cgroup_root` (e.g. a test folder) instead of /sys/fs/cgroup.
MemoryLimits read_memory_limits(const std::string& cgroup_root);

// The threads OpenBLAS will start: OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else all cores.
int blas_threads();

// Address space a trainer needs before its data: what this process has mapped now (the LibTorch
// libraries) plus the per-thread arenas and stacks of the pools still to start (measured: see the
// function's comment).
int64_t runtime_address_space_bytes(int threads);

// ResourceError (exit 3) when RLIMIT_AS leaves less than runtime_address_space_bytes(threads),
// naming the limit, the need and the settings that help (fewer threads, a higher ulimit -v).
void refuse_small_address_space(const MemoryLimits& limits, int threads);

}  // namespace safetrain
