// Regression: Arrow's CSV parser allocates from the jemalloc that pyarrow bundles, which kept the reader's
// freed blocks resident after the load (~15 MB on a 100k x 70 table, through training and the final stage).
// The data module purges it once the table is read; counted in bytes through jemalloc's own statistics.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "safetrain/config/loader.hpp"
#include "safetrain/data/data_module.hpp"
#include "safetrain/data/reader_memory.hpp"

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

}  // namespace

TEST(ReaderMemory, TheDataModuleGivesTheCsvReadersBlocksBack) {
  if (data::reader_resident_bytes() < 0) GTEST_SKIP() << "Arrow's pool is not jemalloc here";
  const fs::path out = fs::path(SAFETRAIN_BINARY_DIR) / "reader-memory-test";
  fs::remove_all(out);
  fs::create_directories(out);
  const auto csv = write_reader_memory_csv(out, 40000, 40);  // ~15 MB of text
  const auto resolved = config::load_config(
      fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml",
      {{"output.dir", out.string()}, {"data.source", "csv"}, {"data.path", csv.string()}, {"data.targets", "target_"},
       {"descriptors.enabled", "false"}, {"data.num_workers", "0"}});
  const auto before = data::reader_resident_bytes();
  const auto run = prepare_run_data(config::make_config(resolved.tree, "test"), {});
  ASSERT_EQ(run.prepared.train.size() + run.prepared.val.size() + run.prepared.test.size(), 40000);
  // jemalloc's own metadata and a few pages stay; the parser's blocks (megabytes) do not.
  EXPECT_LE(data::reader_resident_bytes() - before, 2 * 1024 * 1024);
}
