#include "safetrain/train/device.hpp"

#include <algorithm>
#include <thread>

#include "safetrain/common/error.hpp"
#include "safetrain/common/memory_limits.hpp"

#include "safetrain/device/accelerator.hpp"

namespace safetrain::train {

void apply_threads(AutoCount threads) {
  const int64_t count = threads.is_auto() ? static_cast<int64_t>(std::thread::hardware_concurrency()) : threads.value;
  // Before any thread pool starts: under a tight ulimit -v LibTorch and OpenBLAS spin forever
  // trying to map their per-thread buffers instead of failing.
  const int pools = std::max(static_cast<int>(std::max<int64_t>(1, count)), blas_threads());
  refuse_small_address_space(read_memory_limits(), pools);
  torch::set_num_threads(static_cast<int>(std::max<int64_t>(1, count)));
}

std::string apply_device_budget(const torch::Device& device, double budget_mb) {
  if (budget_mb <= 0.0 || !device.is_cuda()) return "";
  const int index = device.has_index() ? device.index() : 0;
  const auto properties = device::properties(index);
  if (!properties.present || properties.total_bytes <= 0) return "";
  const double fraction = std::min(1.0, budget_mb * 1048576.0 / static_cast<double>(properties.total_bytes));
  device::set_memory_fraction(fraction, index);
  return "device budget: " + std::to_string(static_cast<long long>(budget_mb)) + " MB (" +
         std::to_string(fraction * 100.0).substr(0, 5) + "% of the device)";
}

bool is_out_of_memory(const c10::Error& error) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&error) != nullptr) return true;
  const std::string message = error.what_without_backtrace();
  return message.find("out of memory") != std::string::npos ||
         message.find("CUDA out of memory") != std::string::npos ||
         message.find("DefaultCPUAllocator: can't allocate memory") != std::string::npos;
}

}  // namespace safetrain::train
