#pragma once
// What check_system reports about the machine.
#include <string>
#include <vector>

#include "safetrain/monitor/nvml.hpp"

namespace safetrain::monitor {

struct SystemInfo {
  std::string cpu_model;
  int logical_cores = 0;
  int64_t ram_total_bytes = 0, ram_available_bytes = 0;
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
