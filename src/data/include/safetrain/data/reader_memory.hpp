#pragma once
// The memory the table readers leave behind. Arrow's CSV parser allocates its blocks from Arrow's default
// pool, the jemalloc that the pyarrow build bundles; jemalloc keeps freed pages resident until its arena is
// purged (its decay runs only on later jemalloc calls, and after the load there are none), so without a purge
// the reader's working set (~15 MB on a 100k x 70 table) stayed resident through training and the final stage.
#include <cstdint>

namespace safetrain::data {

// Returns the freed pages of Arrow's pool to the system (a jemalloc purge; nothing for the system pool).
void release_reader_memory();

// Bytes Arrow's pool holds resident: jemalloc's stats.resident, or -1 when the pool is not jemalloc.
int64_t reader_resident_bytes();

}  // namespace safetrain::data
