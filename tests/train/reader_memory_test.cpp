// Regression (issue 30): Arrow's CSV parser allocates from the mimalloc that pyarrow bundles, which kept the
// reader's freed blocks resident after the load (~4 MB on a 100k x 70 table, through training and the final
// stage). The data module collects it once the table is read: a second collection then finds nothing left.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "safetrain/config/loader.hpp"
#include "safetrain/data/data_module.hpp"
#include "safetrain/data/reader_memory.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;
using namespace safetrain;

namespace {

fs::path write_reader_memory_csv(const fs::path& dir, int64_t rows, int64_t features) {
  const fs::path file = dir / "wide.csv";
  std::ofstream out(file);
  for (int64_t f = 0; f < features; ++f) out << 'f' << f << ',';
  out << "target_a\n";
  char cell[32];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f <= features; ++f) {
      std::snprintf(cell, sizeof cell, "%.5f%c", static_cast<double>((r * 37 + f * 11) % 9973) / 13.0,
                    f == features ? '\n' : ',');
      out << cell;
    }
  }
  return file;
}

// Resident bytes of this process (/proc/self/statm), in whole pages.
int64_t reader_test_resident_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * 4096;
}

// What a collection of Arrow's pool gives back now.
int64_t released_by_collecting() {
  const int64_t before = reader_test_resident_bytes();
  data::release_reader_memory();
  return before - reader_test_resident_bytes();
}

}  // namespace

TEST(ReaderMemory, TheDataModuleGivesTheCsvReadersBlocksBack) {
  const fs::path out = fs::path(SAFETRAIN_BINARY_DIR) / "reader-memory-test";
  fs::remove_all(out);
  fs::create_directories(out);
  const auto csv = write_reader_memory_csv(out, 40000, 40);  // ~15 MB of text
  constexpr int64_t kMiB = 1024 * 1024;
  // The reader alone leaves about a megabyte that a collection gives back (what the test below relies on)...
  // It parses on this thread only: with the parsing pool the blocks spread over the threads' heaps as the
  // system schedules them, and the figure varied from run to run.
  released_by_collecting();
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto table = data::read_table(csv.string(), data::TableReadOptions{});
  at::set_num_threads(threads);
  ASSERT_EQ(table.values.size(0), 40000);
  const int64_t after_reader = released_by_collecting();
  EXPECT_GE(after_reader, kMiB);
  // ...and after the data module's load nothing of that size is left to collect.
  const auto resolved = config::load_config(
      fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml",
      {{"output.dir", out.string()}, {"data.source", "csv"}, {"data.path", csv.string()}, {"data.targets", "target_"},
       {"descriptors.enabled", "false"}, {"data.num_workers", "0"}});
  const auto run = data::prepare_run_data(config::make_config(resolved.tree, "test"), {});
  ASSERT_EQ(run.prepared.train.size() + run.prepared.val.size() + run.prepared.test.size(), 40000);
  EXPECT_LE(released_by_collecting(), kMiB / 4) << "the reader alone left " << after_reader << " bytes to collect";
}
