#pragma once
// Returning cached memory: the host heap's free pages (malloc_trim) and, with
// CUDA, the caching allocator's unused blocks (emptyCache).
#include <cstdint>

namespace safetrain::monitor {

void release_cached_memory();
int64_t trim_count();  // calls so far, for the run summary

}  // namespace safetrain::monitor
