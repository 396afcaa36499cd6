#include "safetrain/data/reader_memory.hpp"

#include <arrow/memory_pool.h>

namespace safetrain::data {

void release_reader_memory() { arrow::default_memory_pool()->ReleaseUnused(); }

}  // namespace safetrain::data
