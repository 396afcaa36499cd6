#include <gtest/gtest.h>

#include <fstream>

#include "known_tables.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"
#include "safetrain/data/table_source.hpp"
#include "../support/scratch_dir.hpp"

using namespace safetrain::data::descriptors;
namespace fs = std::filesystem;

namespace {
std::unique_ptr<safetrain::data::TableSource> csv_source(const std::string& glob, int64_t batch_rows) {
  auto source = safetrain::data::open_table_source(glob, {});
  source->set_batch_rows(batch_rows);
  return source;
}
const std::string kGlob = std::string(SAFETRAIN_TEST_DATA_DIR) + "/descriptors/redundant_*.csv";
}

TEST(CsvTableSource, StreamsEveryFileOfTheGlobInBatches) {
  auto opened = csv_source(kGlob, 64);
  auto& source = *opened;
  ASSERT_EQ(source.columns().size(), 8u);
  int64_t rows = 0, batches = 0;
  while (auto batch = source.next_batch()) {
    EXPECT_LE(batch->size(0), 64);
    rows += batch->size(0);
    ++batches;
  }
  EXPECT_EQ(rows, 300);
  EXPECT_GE(batches, 5);
  source.rewind();
  EXPECT_TRUE(source.next_batch().has_value());
}

TEST(CsvTableSource, PipelineOverCsvPrunesTheKnownColumns) {
  auto opened = csv_source(kGlob, 50);
  auto& source = *opened;
  DescriptorOptions o;
  o.targets = {"target"};
  o.hsic_threshold = 0.25;
  const auto r = run_pipeline(source, o);
  EXPECT_EQ(r.kept_columns, (std::vector<std::string>{"x_cubed", "other"}));  // x^3 ties x, larger variance
  EXPECT_EQ(known_tables::reason_for(r, "x_dup"), "pass 1: exact duplicate of 'x'");
  EXPECT_EQ(known_tables::reason_for(r, "x_squared").rfind("pass 3:", 0), 0u);
}

TEST(CsvTableSource, FingerprintFollowsTheFiles) {
  const auto dir = safetrain::testing_support::scratch_dir("descriptor_csv");
  const auto file = dir / "t.csv";
  std::ofstream(file) << "a,b\n1,2\n3,4\n";
  const auto before = csv_source(file.string(), 8)->fingerprint();
  EXPECT_EQ(csv_source(file.string(), 8)->fingerprint(), before);
  std::ofstream(file, std::ios::app) << "5,6\n";
  EXPECT_NE(csv_source(file.string(), 8)->fingerprint(), before);
  fs::remove_all(dir);
}
