#include "safetrain/monitor/trim.hpp"

#include <malloc.h>

#include <atomic>

#ifdef SAFETRAIN_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/cuda.h>
#endif

namespace safetrain::monitor {
namespace {
std::atomic<int64_t> g_trims{0};
}

void release_cached_memory() {
#ifdef SAFETRAIN_WITH_CUDA
  if (torch::cuda::is_available()) c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  malloc_trim(0);
  ++g_trims;
}

int64_t trim_count() { return g_trims.load(); }

}  // namespace safetrain::monitor
