// The load path holds the table once: the reader parses into one buffer sized by a row count, prepare turns
// that buffer into the training split in place, and peak resident memory stays within 1.3x the data.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "safetrain/data/table_source.hpp"
#include "safetrain/data/owned_rows.hpp"
#include "safetrain/data/prepare.hpp"
#include "../support/intra_op_threads.hpp"
#include "../support/parquet_fixture.hpp"
#include "../support/resident_peak.hpp"
#include "../support/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace safetrain::data;
using safetrain::testing_support::IntraOpThreads;
using safetrain::testing_support::ResidentPeak;

namespace {

// rows x (features + 2 targets) numbers, plus a text column and blank lines the reader must skip.
fs::path write_csv(const std::string& name, int64_t rows, int64_t features, bool extras) {
  const fs::path file = safetrain::testing_support::scratch_dir("load_once") / (name + ".csv");
  std::ofstream out(file);
  for (int64_t f = 0; f < features; ++f) out << 'f' << f << ',';
  out << (extras ? "smiles," : "") << "target_a,target_b\n";
  char cell[32];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t f = 0; f < features; ++f) {
      std::snprintf(cell, sizeof cell, "%.4f,", static_cast<double>((r * 31 + f * 17) % 1000) / 7.0);
      out << cell;
    }
    out << (extras ? "CCO," : "") << r % 13 << ',' << (r * 7) % 11 << '\n';
    if (extras && r % 100 == 0) out << "\n  \n";
  }
  return file;
}

// The CSV as float32 Parquet in 64k-row row groups (tests/support/write_table.py); false without pyarrow.
bool write_parquet_copy(const fs::path& csv, const fs::path& parquet) {
  return safetrain::testing_support::write_parquet_fixture("float32", csv, parquet, 65536);
}

ColumnSelection by_prefix() {
  ColumnSelection s;
  s.target_prefix = "target_";
  return s;
}

}  // namespace

TEST(LoadOnce, ReaderAllocatesOneBufferOfExactlyTheUsedColumns) {
  const auto file = write_csv("exact", 5000, 8, /*extras=*/true);
  TableReadStats stats;
  const auto table = read_table(file.string(), {}, {}, &stats);
  ASSERT_EQ(table.values.sizes(), (std::vector<int64_t>{5000, 10}));  // the text column is skipped
  EXPECT_EQ(stats.buffer_bytes, 5000 * 10 * 4);  // blank lines are not counted as rows
  EXPECT_EQ(table.values.storage().nbytes(), static_cast<size_t>(5000 * 10 * 4));
  EXPECT_FLOAT_EQ(table.values[4999][9].item<float>(), static_cast<float>((4999 * 7) % 11));

  // A run that lists its features reads only those and the targets.
  CsvColumnRoles roles;
  roles.numeric = {"f1", "f5"};
  roles.numeric_prefix = "target_";
  roles.only_numeric = true;
  const auto narrow = read_table(file.string(), {}, roles, &stats);
  EXPECT_EQ(narrow.columns, (std::vector<std::string>{"f1", "f5", "target_a", "target_b"}));
  EXPECT_EQ(stats.buffer_bytes, 5000 * 4 * 4);
  EXPECT_TRUE(torch::equal(narrow.values.select(1, 1), table.values.select(1, 5)));
}

TEST(LoadOnce, AHandedOverTableBecomesTheTrainingSplitWithoutACopy) {
  torch::manual_seed(3);
  Table table;
  table.columns = {"f1", "target_a", "f2", "f3", "target_b"};
  table.values = torch::randn({1000, 5});
  table.source = "test";
  const Table kept{table.columns, table.values.clone(), table.source, {}};
  const void* buffer = table.values.data_ptr();
  const auto from_copy = prepare(kept, by_prefix(), SplitOptions{});  // the caller keeps `kept`: copied once
  const auto moved = prepare(std::move(table), by_prefix(), SplitOptions{});
  EXPECT_EQ(moved.train.x.data_ptr(), buffer);
  for (const auto* s : {&moved.train, &moved.val, &moved.test}) {
    EXPECT_EQ(s->x.storage().nbytes(), static_cast<size_t>(s->x.numel() * 4));
    EXPECT_EQ(s->y.storage().nbytes(), static_cast<size_t>(s->y.numel() * 4));
  }
  EXPECT_TRUE(torch::equal(moved.train.x, from_copy.train.x));
  EXPECT_TRUE(torch::equal(moved.test.x, from_copy.test.x));
  EXPECT_TRUE(torch::equal(moved.val.y, from_copy.val.y));
  // Each row is the source row named by its row id, features in the selection's order.
  const auto raw = kept.values.index_select(0, moved.val.row_ids).index_select(1, torch::tensor({0L, 2L, 3L}));
  EXPECT_TRUE(torch::allclose(moved.val.x, moved.feature_scaler.apply(raw), 1e-5, 1e-5));
}

TEST(LoadOnce, ReorderInPlaceMatchesAGather) {
  const auto t = torch::arange(60, torch::kFloat).reshape({12, 5});
  auto work = t.clone();
  const std::vector<int64_t> order{11, 0, 5, 3, 7, 2};
  reorder_rows_in_place(work, order, {4, 1});
  const auto expected = gather_rows_columns(t, order, {4, 1});
  EXPECT_TRUE(torch::equal(work.view(-1).narrow(0, 0, 12).view({6, 2}), expected));
  const auto kept = keep_leading(std::move(work), {6, 2});
  EXPECT_EQ(kept.storage().nbytes(), 6u * 2 * 4);
  EXPECT_TRUE(torch::equal(kept, expected));
}

TEST(LoadOnce, PeakResidentMemoryOfReadAndPrepareIsWithinOnePointThreeTimesTheData) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' shadow memory and quarantine dwarf the bound (TSan: 117 MB for 26 MB of data).
  GTEST_SKIP() << "RSS bounds are measured in the uninstrumented build";
#endif
  prepare(read_table(write_csv("warm", 2000, 48, false).string()), by_prefix(), SplitOptions{});  // code pages in
  const auto file = write_csv("large", 100000, 48, false);
  const ResidentPeak peak;
  ASSERT_TRUE(peak.was_reset()) << "this kernel cannot reset the peak (clear_refs)";
  TableReadStats stats;
  auto data = prepare(read_table(file.string(), {}, {}, &stats), by_prefix(), SplitOptions{});
  const long peak_kb = peak.above_start_kb();
  const long data_kb = stats.rows * stats.columns * 4 / 1024;
  const long batch_kb = 1024;  // the line counter's read chunk
  RecordProperty("peak_above_start_kb", static_cast<int>(peak_kb));
  RecordProperty("data_kb", static_cast<int>(data_kb));
  EXPECT_EQ(data.train.size() + data.val.size() + data.test.size(), 100000);
  EXPECT_LE(peak_kb, data_kb * 13 / 10 + batch_kb) << "peak " << peak_kb << " kB above the start for " << data_kb
                                                   << " kB of float32 data";
}

// Parquet's row groups are read a few columns at a time straight into the one buffer: Arrow's reader decoded a
// whole row group of every used column first (3.4x the data on 100k x 70).
TEST(LoadOnce, ParquetPeakIsWithinOnePointThreeTimesTheData) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "RSS bounds are measured in the uninstrumented build";
#endif
  const auto small = write_csv("parquet_warm", 2000, 48, false);  // (each call empties the folder)
  if (!write_parquet_copy(small, small.string() + ".parquet")) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  read_table(small.string() + ".parquet");  // code pages in
  const auto large = write_csv("parquet_large", 100000, 48, false);
  ASSERT_TRUE(write_parquet_copy(large, large.string() + ".parquet"));
  const auto csv = read_table(large.string());
  const ResidentPeak peak;
  ASSERT_TRUE(peak.was_reset()) << "this kernel cannot reset the peak (clear_refs)";
  TableReadStats stats;
  Table parquet;
  {
    const IntraOpThreads sixteen(16);  // as on a 16-core machine: the column blocks' readers must not grow with the threads
    parquet = read_table(large.string() + ".parquet", {}, {}, &stats);
  }
  const long peak_kb = peak.above_start_kb();
  const long data_kb = stats.rows * stats.columns * 4 / 1024;
  RecordProperty("peak_above_start_kb", static_cast<int>(peak_kb));
  EXPECT_TRUE(torch::equal(parquet.values, csv.values));
  EXPECT_LE(peak_kb, data_kb * 13 / 10 + 1024) << "peak " << peak_kb << " kB above the start for " << data_kb
                                                << " kB of float32 data";
}
