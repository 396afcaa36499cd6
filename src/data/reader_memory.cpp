#include "safetrain/data/reader_memory.hpp"

#include <arrow/memory_pool.h>

#include <string>

namespace safetrain::data {

void release_reader_memory() { arrow::default_memory_pool()->ReleaseUnused(); }

int64_t reader_resident_bytes() {
  if (arrow::default_memory_pool()->backend_name() != std::string("jemalloc")) return -1;
  const auto resident = arrow::jemalloc_get_stat("stats.resident");
  return resident.ok() ? *resident : -1;
}

}  // namespace safetrain::data
