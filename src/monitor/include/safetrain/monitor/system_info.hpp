#pragma once
// What check_system reports about the machine.
#include "safetrain/device/accelerator.hpp"
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
  device::BuildInfo torch;       // the LibTorch build: version, CUDA or not, CUDA version, NCCL
  device::Availability devices;  // CUDA devices visible now, or why none ("no driver / no device")
  std::string blas;
  std::vector<Nvml::Gpu> gpus;
  std::string nvml_status;
};

SystemInfo probe_system();
// "2.11.0, CUDA build (CUDA 13.0, c10d NCCL); devices: 1" or "...; devices: none (no driver / no device ...)".
std::string libtorch_summary(const SystemInfo& info);
// The BLAS library mapped into this process after one matrix product.
std::string blas_in_use();

}  // namespace safetrain::monitor
