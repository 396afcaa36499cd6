#pragma once
// NVML loaded with dlopen at run time: the same binary runs with and without
// an NVIDIA driver. Types come from the CUDA toolkit's nvml.h when it was
// found at build time.
#include <cstdint>
#include <string>
#include <vector>

namespace safetrain::monitor {

class Nvml {
 public:
  struct Gpu {
    std::string name;
    int64_t total_bytes = 0, used_bytes = 0, free_bytes = 0;
  };
  static Nvml& instance();
  bool available() const { return available_; }
  std::string status() const { return status_; }  // why not, when unavailable
  std::vector<Gpu> gpus() const;
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

 private:
  Nvml();
  void* library_ = nullptr;
  bool available_ = false;
  std::string status_;
};

}  // namespace safetrain::monitor
