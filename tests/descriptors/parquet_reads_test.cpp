// The pruner's reads of a Parquet table go column-wise (TableSource::read_columns): pass 0's statistics in blocks
// of columns, the survivor load straight into its [columns x rows] tensor. No row group is staged (a 64k-row
// group of 48 columns is 12.6 MB, two thirds of this 19 MB table), and the figures are those of the CSV.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <numeric>
#include <string>

#include "../support/parquet_fixture.hpp"
#include "../support/resident_peak.hpp"
#include "../support/scratch_dir.hpp"
#include "passes.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;
using namespace safetrain::data;
using safetrain::testing_support::ResidentPeak;

namespace {

fs::path write_load_csv(const fs::path& dir, const std::string& name, int64_t rows) {
  std::ofstream out(dir / name);
  for (int f = 0; f < 47; ++f) out << 'f' << f << ',';
  out << "target_y\n";
  char cell[32];
  for (int64_t r = 0; r < rows; ++r) {
    for (int f = 0; f < 47; ++f) {
      std::snprintf(cell, sizeof cell, "%.4f,", static_cast<double>((r * 31 + f * 17) % 1000) / 7.0);
      out << cell;
    }
    out << r % 13 << '\n';
  }
  return dir / name;
}

// Writes the table as CSV and as float32 Parquet in 64k-row groups; false without pyarrow.
bool write_both(const fs::path& dir, const std::string& name, int64_t rows) {
  const auto csv = write_load_csv(dir, name + ".csv", rows);
  return safetrain::testing_support::write_parquet_fixture("float32", csv, dir / (name + ".parquet"), 65536);
}

}  // namespace

TEST(ParquetReads, TheSurvivorLoadPeakIsTheColumnsNotARowGroupMore) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "RSS bounds are measured in the uninstrumented build";
#endif
  const auto dir = safetrain::testing_support::scratch_dir("load_columns_memory");
  if (!write_both(dir, "warm", 2000) || !write_both(dir, "large", 100000)) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  std::vector<int64_t> all(48);
  std::iota(all.begin(), all.end(), 0);
  descriptors::load_columns(*open_table_source((dir / "warm.parquet").string(), {}), all, 2000);  // code pages in
  const auto source = open_table_source((dir / "large.parquet").string(), {});
  const ResidentPeak peak;
  ASSERT_TRUE(peak.was_reset()) << "this kernel cannot reset the peak (clear_refs)";
  const auto columns = descriptors::load_columns(*source, all, 100000);
  const long peak_kb = peak.above_start_kb();
  const long data_kb = 100000L * 48 * 4 / 1024;
  EXPECT_EQ(columns.sizes(), (std::vector<int64_t>{48, 100000}));
  EXPECT_EQ(columns[47][99999].item<float>(), static_cast<float>(99999 % 13));
  EXPECT_LE(peak_kb, data_kb * 13 / 10 + 1024) << "peak " << peak_kb << " kB above the start for " << data_kb
                                                << " kB of columns";
}

TEST(ParquetReads, PassZeroFiguresAreTheCsvsBitForBitWithoutARowGroupStaged) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "RSS bounds are measured in the uninstrumented build";
#endif
  const auto dir = safetrain::testing_support::scratch_dir("parquet_pass_zero");
  if (!write_both(dir, "warm", 2000) || !write_both(dir, "large", 100000)) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  descriptors::compute_stats(*open_table_source((dir / "warm.parquet").string(), {}));  // code pages in
  const auto from_csv = descriptors::compute_stats(*open_table_source((dir / "large.csv").string(), {}));
  const auto parquet = open_table_source((dir / "large.parquet").string(), {});
  const ResidentPeak peak;
  ASSERT_TRUE(peak.was_reset()) << "this kernel cannot reset the peak (clear_refs)";
  const auto from_parquet = descriptors::compute_stats(*parquet);
  const long peak_kb = peak.above_start_kb();
  ASSERT_EQ(from_parquet.size(), from_csv.size());
  for (size_t c = 0; c < from_csv.size(); ++c) {
    EXPECT_EQ(from_parquet[c].hash, from_csv[c].hash) << c;
    EXPECT_EQ(from_parquet[c].count, from_csv[c].count) << c;
    EXPECT_EQ(from_parquet[c].mean, from_csv[c].mean) << c;
    EXPECT_EQ(from_parquet[c].m2, from_csv[c].m2) << c;
    EXPECT_EQ(from_parquet[c].max, from_csv[c].max) << c;
  }
  const long batch_kb = parquet->batch_rows() * 48 * 4 / 1024;  // the pass's working set: one batch
  RecordProperty("peak_above_start_kb", static_cast<int>(peak_kb));
  EXPECT_LE(peak_kb, 2 * batch_kb + 4096) << "peak " << peak_kb << " kB above the start for a " << batch_kb
                                          << " kB batch";
}
