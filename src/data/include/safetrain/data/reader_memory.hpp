#pragma once
// The memory the table readers leave behind. Arrow's CSV parser allocates its blocks from Arrow's default
// pool, the mimalloc (or jemalloc) that the pyarrow build bundles; it keeps freed pages resident until it is
// collected (its delayed purge runs only on later calls into it, and after the load there are none), so the
// reader's freed blocks (~4 MB on a 100k x 70 table) stayed resident through training and the final stage.
namespace safetrain::data {

// Returns the freed pages of Arrow's pool to the system (mi_collect, a jemalloc purge; nothing for the system pool).
void release_reader_memory();

}  // namespace safetrain::data
