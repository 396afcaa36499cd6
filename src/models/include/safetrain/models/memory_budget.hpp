#pragma once
// Free memory on the device a model will live on, and the refusal when an
// estimate does not fit (the seed's "check >= 1200 MB free before building").
#include <cstdint>
#include <string>

#include "safetrain/models/memory_estimate.hpp"
#include "safetrain/monitor/device_description.hpp"

namespace safetrain::models {

struct Budget {
  std::string device;      // "cpu", "cuda:0", ...
  int64_t free_bytes = 0;
  std::string source;      // where the figure came from, e.g. "/proc/meminfo MemAvailable"
};

// A device budget lowered to memory.device_budget_mb (0: no cap), which the allocator's memory fraction
// enforces during the run: an 80 GB card under a 4096 MB budget admits only what fits in 4096 MB.
// The host budget is never capped by it.
Budget capped_by_device_budget(Budget budget, double device_budget_mb);

// The budget of CUDA device `name` from its description and /proc/meminfo: cudaMemGetInfo on a
// discrete GPU, MemAvailable on an integrated one (Jetson-class boards share the host's memory);
// `source` says which. Pure: current_budget's CUDA branch and the tests use it.
Budget device_budget_from(const std::string& name, const monitor::DeviceDescription& device,
                          const monitor::HostMemory& host);

// "cpu": MemAvailable from /proc/meminfo, lowered to the cgroup's remaining
// limit when the process runs in a tighter container, and to the address space
// left under RLIMIT_AS (ulimit -v, prlimit --as). "cuda" / "cuda:N": the
// device's free memory (device_budget_from); an InputError in a build without CUDA
// or for a missing device.
Budget current_budget(const std::string& device);

// Throws safetrain::ResourceError when estimate.total_bytes does not fit in
// budget.free_bytes minus min_free_mb, e.g. "model needs ~X MB, Y MB free on
// cpu (keeping Z MB in reserve: memory.min_free_mb); try training.batch_size N
// or training.precision 16". `batch_size` is the batch the estimate was made for.
void check_fits(const MemoryEstimate& estimate, const Budget& budget, double min_free_mb, int64_t batch_size);

}  // namespace safetrain::models
