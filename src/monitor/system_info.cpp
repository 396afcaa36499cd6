#include "safetrain/monitor/system_info.hpp"

#include <ATen/Version.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "safetrain/monitor/process_memory.hpp"

namespace safetrain::monitor {

std::string blas_in_use() {
  // A LibTorch that reaches BLAS as a shared library (Debian's, through the alternatives system): which
  // library is mapped after a product is the only reliable answer (the reference BLAS is 5-8x slower).
  torch::mm(torch::ones({64, 64}), torch::ones({64, 64}));
  std::ifstream maps("/proc/self/maps");
  std::string line, found;
  for (const char* name : {"openblas", "libmkl", "libblis", "libblas.so", "libcblas"}) {
    maps.clear();
    maps.seekg(0);
    while (std::getline(maps, line)) {
      const auto at = line.find(name);
      if (at == std::string::npos) continue;
      found = line.substr(line.find('/'));
      break;
    }
    if (!found.empty()) break;
  }
  if (found.empty()) {
    // The torch wheel links MKL statically into libtorch_cpu: its build settings name it.
    const std::string config = at::show_config();
    const auto where = config.find("BLAS_INFO=");
    if (where == std::string::npos) return "unknown (no BLAS library mapped)";
    const size_t start = where + 10;
    const std::string name = config.substr(start, config.find_first_of(", \n", start) - start);
    return (name == "mkl" ? std::string("MKL") : name) + " (linked into LibTorch)";
  }
  std::error_code ec;
  const auto real = std::filesystem::canonical(found, ec);
  const std::string path = ec ? found : real.string();
  if (path.find("openblas") != std::string::npos) return "OpenBLAS (" + path + ")";
  if (path.find("mkl") != std::string::npos) return "MKL (" + path + ")";
  if (path.find("blas") != std::string::npos && path.find("openblas") == std::string::npos) {
    return "reference BLAS (" + path + "): install libopenblas0-pthread, matrix products are 5-8x slower";
  }
  return path;
}

int64_t SystemInfo::usable_memory_bytes() const {
  int64_t usable = ram_available_bytes;
  for (const int64_t room : {limits.cgroup_left(), limits.address_space_left()}) {
    if (room >= 0) usable = std::min(usable, room);
  }
  return usable;
}

SystemInfo probe_system() {
  SystemInfo info;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      info.cpu_model = line.substr(line.find(':') + 2);
      break;
    }
  }
  if (info.cpu_model.empty()) info.cpu_model = "unknown CPU";
  info.logical_cores = static_cast<int>(std::thread::hardware_concurrency());
  info.ram_total_bytes = mem_total_bytes();
  info.ram_available_bytes = mem_available_bytes();
  info.limits = read_memory_limits();
  info.torch = device::build_info();
  info.devices = device::availability();
  info.blas = blas_in_use();
  info.gpus = Nvml::instance().gpus();
  info.nvml_status = Nvml::instance().status();
  return info;
}

std::string libtorch_summary(const SystemInfo& info) {
  std::string text = info.torch.torch_version;
  text += info.torch.cuda ? ", CUDA build (CUDA " + info.torch.cuda_version + (info.torch.nccl ? ", c10d NCCL)" : ")")
                          : ", CPU-only build";
  text += "; CUDA devices: ";
  text += info.devices.device_count > 0 ? std::to_string(info.devices.device_count) : "none (" + info.devices.reason + ")";
  return text;
}

}  // namespace safetrain::monitor
