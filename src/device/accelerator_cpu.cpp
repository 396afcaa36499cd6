// The accelerator seam for a CPU-only LibTorch: no device, every figure unknown, every action a no-op.
#include <torch/version.h>

#include "safetrain/device/accelerator.hpp"

namespace safetrain::device {

BuildInfo build_info() { return {TORCH_VERSION, false, "", false}; }
Availability availability() { return {0, "CPU-only LibTorch build"}; }
bool available() { return false; }
AllocatorStats allocator_stats(int) { return {}; }
DeviceProperties properties(int) { return {}; }
void empty_cache() {}
void set_memory_fraction(double, int) {}
void synchronize(int) {}
std::vector<std::pair<std::string, torch::Tensor>> rng_states() { return {}; }

std::vector<std::string> restore_rng_states(const std::vector<std::pair<std::string, torch::Tensor>>& states) {
  std::vector<std::string> missing;
  for (const auto& entry : states) missing.push_back(entry.first);
  return missing;
}

bool pinned_memory_useful() { return false; }

}  // namespace safetrain::device
