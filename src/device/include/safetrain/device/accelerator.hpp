#pragma once
// The accelerator seam: everything safetrain asks of a GPU, behind plain functions. CMake compiles
// exactly one implementation (SafetrainDevice in src/device/CMakeLists.txt): accelerator_cuda.cpp when
// LibTorch was built with CUDA, accelerator_cpu.cpp otherwise. Only accelerator_cuda.cpp includes CUDA
// or c10::cuda headers; a new backend is one more file there. Without a device every query answers
// "nothing here" (-1 figures, false, empty lists), so callers never branch on the build.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace safetrain::device {

// What LibTorch was built for, fixed at compile time.
struct BuildInfo {
  std::string torch_version;  // e.g. "2.11.0"
  bool cuda = false;          // a CUDA build of LibTorch (whether or not a device is present)
  std::string cuda_version;   // the CUDA version LibTorch was built for; "" for a CPU build
  bool nccl = false;          // c10d's NCCL backend compiled in
};
BuildInfo build_info();

// Whether a usable device exists now, and if not, why in a few words ("no driver / no device").
struct Availability {
  int device_count = 0;
  std::string reason;  // empty when device_count > 0
};
Availability availability();
bool available();  // availability().device_count > 0

// The caching allocator's figures in bytes; all -1 without a device.
struct AllocatorStats {
  int64_t allocated = -1, reserved = -1, peak_allocated = -1, peak_reserved = -1;
};
AllocatorStats allocator_stats(int index);

// A device's properties and free memory (cudaMemGetInfo); present = false for a missing index.
struct DeviceProperties {
  bool present = false;
  bool integrated = false;  // shares memory with the host (Jetson-class boards)
  int64_t free_bytes = -1, total_bytes = -1;
  std::string name;
};
DeviceProperties properties(int index);

void empty_cache();                                  // return the allocator's unused blocks
void set_memory_fraction(double fraction, int index);  // cap the allocator (memory.device_budget_mb)
void synchronize(int index);                         // wait for queued work (timings, memory figures)

// Every device generator's state, named "cuda:<i>", for checkpoints; restore_rng_states sets those
// that name a device present now and returns the names it could not restore.
std::vector<std::pair<std::string, torch::Tensor>> rng_states();
std::vector<std::string> restore_rng_states(const std::vector<std::pair<std::string, torch::Tensor>>& states);

// Page-locked host memory only speeds host-to-device copies: false without a device.
bool pinned_memory_useful();

}  // namespace safetrain::device
