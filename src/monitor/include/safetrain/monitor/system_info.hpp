#pragma once
// What check_system reports about the machine.
#include <string>
#include <vector>

#include "safetrain/common/memory_limits.hpp"
#include "safetrain/monitor/nvml.hpp"

namespace safetrain::monitor {

struct SystemInfo {
  std::string cpu_model;
  int logical_cores = 0;
  int64_t ram_total_bytes = 0, ram_available_bytes = 0;
  MemoryLimits limits;  // RLIMIT_AS and the cgroup limit
  // What this process may still use: MemAvailable lowered to the cgroup's and the address space's room.
  int64_t usable_memory_bytes() const;
  std::string torch_version;
  bool torch_has_cuda = false;
  std::string blas;
  std::vector<Nvml::Gpu> gpus;
  std::string nvml_status;
};

SystemInfo probe_system();
// The BLAS library mapped into this process after one matrix product.
std::string blas_in_use();

}  // namespace safetrain::monitor
