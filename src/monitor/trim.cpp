#include "safetrain/monitor/trim.hpp"

#include <malloc.h>

#include <atomic>

#include "safetrain/device/accelerator.hpp"

namespace safetrain::monitor {
namespace {
std::atomic<int64_t> g_trims{0};
}

void release_cached_memory() {
  device::empty_cache();
  malloc_trim(0);
  ++g_trims;
}

int64_t trim_count() { return g_trims.load(); }

}  // namespace safetrain::monitor
