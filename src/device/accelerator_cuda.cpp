// The accelerator seam on CUDA: the only safetrain file that includes CUDA or c10::cuda headers.
// Every query first asks the runtime how many devices there are, so a CUDA build on a machine
// without a driver (CI, a laptop) answers "nothing here" instead of throwing.
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#include <torch/version.h>

#include <mutex>

#include "safetrain/device/accelerator.hpp"

namespace safetrain::device {
namespace {

std::string version_text(int version) {  // 13000 -> "13.0"
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

bool valid_index(int index) { return index >= 0 && index < availability().device_count; }

size_t aggregate() { return static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE); }

}  // namespace

BuildInfo build_info() {
  int runtime = 0;
  // The CUDA runtime LibTorch loaded (the version it was built for); needs no driver.
  const std::string cuda = cudaRuntimeGetVersion(&runtime) == cudaSuccess ? version_text(runtime) : "unknown";
#ifdef SAFETRAIN_WITH_NCCL
  return {TORCH_VERSION, true, cuda, true};
#else
  return {TORCH_VERSION, true, cuda, false};
#endif
}

Availability availability() {
  static const Availability cached = [] {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status == cudaSuccess && count > 0) return Availability{count, ""};
    (void)cudaGetLastError();  // clear the sticky error for LibTorch's own probes
    if (status == cudaErrorInsufficientDriver) return Availability{0, "no driver / no device: CUDA driver missing or too old"};
    if (status == cudaErrorNoDevice || status == cudaSuccess) return Availability{0, "no driver / no device: no CUDA device visible"};
    return Availability{0, std::string("no driver / no device: ") + cudaGetErrorString(status)};
  }();
  return cached;
}

bool available() { return availability().device_count > 0; }

AllocatorStats allocator_stats(int index) {
  if (!valid_index(index)) return {};
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  return {stats.allocated_bytes[aggregate()].current, stats.reserved_bytes[aggregate()].current,
          stats.allocated_bytes[aggregate()].peak, stats.reserved_bytes[aggregate()].peak};
}

DeviceProperties properties(int index) {
  if (!valid_index(index)) return {};
  int integrated = 0;
  cudaDeviceProp props{};
  if (cudaDeviceGetAttribute(&integrated, cudaDevAttrIntegrated, index) != cudaSuccess ||
      cudaGetDeviceProperties(&props, index) != cudaSuccess)
    return {};
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  size_t free_bytes = 0, total_bytes = 0;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) return {};
  return {true, integrated != 0, static_cast<int64_t>(free_bytes), static_cast<int64_t>(total_bytes), props.name};
}

void empty_cache() {
  if (available()) c10::cuda::CUDACachingAllocator::emptyCache();
}

void set_memory_fraction(double fraction, int index) {
  if (valid_index(index)) c10::cuda::CUDACachingAllocator::setMemoryFraction(fraction, static_cast<c10::DeviceIndex>(index));
}

void synchronize(int index) {
  if (valid_index(index)) c10::cuda::device_synchronize();
}

std::vector<std::pair<std::string, torch::Tensor>> rng_states() {
  std::vector<std::pair<std::string, torch::Tensor>> states;
  for (int i = 0; i < availability().device_count; ++i) {
    auto generator = at::cuda::detail::getDefaultCUDAGenerator(static_cast<c10::DeviceIndex>(i));  // a handle
    std::lock_guard<std::mutex> lock(generator.mutex());
    states.emplace_back("cuda:" + std::to_string(i), generator.get_state());
  }
  return states;
}

std::vector<std::string> restore_rng_states(const std::vector<std::pair<std::string, torch::Tensor>>& states) {
  std::vector<std::string> missing;
  for (const auto& [name, state] : states) {
    const int index = name.rfind("cuda:", 0) == 0 ? std::atoi(name.c_str() + 5) : -1;
    if (!valid_index(index)) {
      missing.push_back(name);
      continue;
    }
    auto generator = at::cuda::detail::getDefaultCUDAGenerator(static_cast<c10::DeviceIndex>(index));
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
  }
  return missing;
}

bool pinned_memory_useful() { return available(); }

}  // namespace safetrain::device
