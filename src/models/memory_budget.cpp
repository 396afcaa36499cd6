#include "safetrain/models/memory_budget.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <torch/torch.h>

#include "safetrain/common/error.hpp"
#include "safetrain/device/accelerator.hpp"
#include "safetrain/common/memory_limits.hpp"

namespace safetrain::models {
namespace {

constexpr double kBytesPerMb = 1024.0 * 1024.0;

// MemAvailable in bytes, or -1 when /proc/meminfo is missing (not Linux).
int64_t meminfo_available() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
  return -1;
}

Budget host_budget() {
  Budget budget{"cpu", meminfo_available(), "/proc/meminfo MemAvailable"};
  if (budget.free_bytes < 0) throw ResourceError("cannot read MemAvailable from /proc/meminfo");
  // A container's memory limit and the address-space rlimit (ulimit -v) can both be tighter than RAM.
  const MemoryLimits limits = read_memory_limits();
  const int64_t in_cgroup = limits.cgroup_left();
  if (in_cgroup >= 0 && in_cgroup < budget.free_bytes) {
    budget.free_bytes = in_cgroup;
    budget.source = "cgroup memory limit minus usage, " + limits.cgroup_source;
  }
  const int64_t address_space = limits.address_space_left();
  if (address_space >= 0 && address_space < budget.free_bytes) {
    budget.free_bytes = address_space;
    budget.source = "address-space limit (ulimit -v / RLIMIT_AS) minus this process's size";
  }
  return budget;
}

int64_t cuda_index(const std::string& device) {
  if (device == "cuda") return 0;
  const std::string digits = device.substr(5);  // after "cuda:"
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
    throw InputError("training.device: '" + device + "' is not cpu, cuda or cuda:N");
  return std::stoll(digits);
}

Budget device_budget(const std::string& device) {
  const int64_t index = cuda_index(device);
  if (!device::build_info().cuda)
    throw InputError("training.device: " + device +
                     " requested but this safetrain build uses a CPU-only LibTorch (see docs/GPU.md)");
  const auto found = device::availability();
  if (found.device_count == 0)
    throw InputError("training.device: " + device + " requested but CUDA has " + found.reason);
  if (index >= found.device_count)
    throw InputError("training.device: " + device + " does not exist (" + std::to_string(found.device_count) +
                     " CUDA devices)");
  const auto description = monitor::describe_cuda_device(static_cast<int>(index));
  if (!description.cuda) throw ResourceError("cannot read the free memory of " + device + " (cudaMemGetInfo failed)");
  return device_budget_from("cuda:" + std::to_string(index), description, monitor::read_host_memory());
}

}  // namespace

Budget device_budget_from(const std::string& name, const monitor::DeviceDescription& device,
                          const monitor::HostMemory& host) {
  const auto budget = monitor::device_memory_budget(device, host);
  return {name, budget.free_bytes, budget.source};
}

Budget capped_by_device_budget(Budget budget, double device_budget_mb) {
  const auto cap = static_cast<int64_t>(device_budget_mb * kBytesPerMb);
  if (budget.device == "cpu" || cap <= 0 || cap >= budget.free_bytes) return budget;
  budget.free_bytes = cap;
  budget.source = "memory.device_budget_mb, below the device's " + budget.source;
  return budget;
}

Budget current_budget(const std::string& device) {
  if (device == "cpu") return host_budget();
  if (device.rfind("cuda", 0) == 0) return device_budget(device);
  throw InputError("training.device: '" + device + "' is not cpu, cuda or cuda:N");
}

void check_fits(const MemoryEstimate& estimate, const Budget& budget, double min_free_mb, int64_t batch_size) {
  const auto reserve = static_cast<int64_t>(min_free_mb * kBytesPerMb);
  const int64_t usable = budget.free_bytes - reserve;
  if (estimate.total_bytes <= usable) return;

  std::ostringstream message;
  message << "model needs ~" << format_mb(estimate.total_bytes) << ", " << format_mb(budget.free_bytes)
          << " free on " << budget.device << " (" << budget.source << "; keeping " << format_mb(reserve)
          << " in reserve: memory.min_free_mb); try ";
  // Activations scale with the batch, the rest does not: suggest the batch that would fit.
  const int64_t fixed = estimate.total_bytes - estimate.activation_bytes;
  const int64_t per_sample = batch_size > 0 ? std::max<int64_t>(1, estimate.activation_bytes / batch_size) : 1;
  const int64_t smaller_batch = usable > fixed ? (usable - fixed) / per_sample : 0;
  if (smaller_batch >= 1 && smaller_batch < batch_size)
    message << "training.batch_size " << smaller_batch << " or ";
  message << "training.precision 16, a smaller model (model.d_model, model.num_layers, model.hidden), "
          << "or a lower memory.min_free_mb";
  throw ResourceError(message.str());
}

}  // namespace safetrain::models
