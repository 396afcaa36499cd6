// The reader threads the CSV pieces and the Parquet column blocks run on: every item once, several threads,
// and the failure a serial run would report; a Parquet table reads the same bits on one and four threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../support/input_error_of.hpp"
#include "../support/intra_op_threads.hpp"
#include "../support/parquet_fixture.hpp"
#include "../support/scratch_dir.hpp"
#include "reader_threads.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::data;

namespace {

std::string failure_of(ReaderThreads& threads, size_t count, const std::function<void(size_t, size_t)>& work) {
  try {
    threads.each(count, work);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no exception>";
}

// `columns` float columns over `rows` rows (f64_ columns are float64 in the Parquet copy); `bad` puts 1e39,
// which float32 cannot hold, at (row, column) pairs.
fs::path write_wide_csv(const fs::path& dir, int rows, int columns, const std::vector<std::pair<int, int>>& bad = {}) {
  std::ofstream out(dir / "wide.csv", std::ios::binary);
  for (int c = 0; c < columns; ++c) out << "f64_c" << c << ',';
  out << "target\n";
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < columns; ++c) {
      const bool refused = std::find(bad.begin(), bad.end(), std::make_pair(r, c)) != bad.end();
      out << (refused ? std::string("1e39") : (r * 7 + c) % 11 == 0 ? std::string() : std::to_string(r * 0.5 - c))
          << ',';
    }
    out << r % 3 << '\n';
  }
  return dir / "wide.csv";
}

bool write_typed_parquet(const fs::path& csv, const fs::path& out, int group_rows) {
  return testing_support::write_parquet_fixture("typed", csv, out, group_rows);
}

std::string parquet_refusal(const fs::path& file) {
  return testing_support::input_error_of([&] { read_table(file.string()); });
}

}  // namespace

TEST(ReaderThreads, EveryItemRunsOnceOnSeveralThreads) {
  testing_support::IntraOpThreads four(4);
  ReaderThreads threads;
  ASSERT_EQ(threads.refresh(), 4);
  std::vector<std::atomic<int>> runs(64);
  std::mutex mutex;
  std::set<size_t> slots;
  threads.each(runs.size(), [&](size_t item, size_t slot) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // so one thread cannot take every item
    ++runs[item];
    const std::lock_guard<std::mutex> lock(mutex);
    slots.insert(slot);
  });
  for (const auto& count : runs) EXPECT_EQ(count.load(), 1);
  EXPECT_GE(slots.size(), 2u);
  EXPECT_LT(*slots.rbegin(), 4u);
}

// Item 5 fails late, item 40 at once: a serial run would have stopped at item 5, so that is the failure shown.
TEST(ReaderThreads, TheLowestFailingItemIsReportedAsASerialRunWould) {
  testing_support::IntraOpThreads two(2);
  ReaderThreads threads;
  threads.refresh();
  std::atomic<int> after_failure{0};
  const auto failure = failure_of(threads, 200, [&](size_t item, size_t) {
    if (item == 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      throw std::runtime_error("item 5");
    }
    if (item == 40) throw std::runtime_error("item 40");
    if (item > 40) ++after_failure;
  });
  EXPECT_EQ(failure, "item 5");
  EXPECT_LT(after_failure.load(), 159) << "items were still taken after a failure";
}

TEST(ReaderThreads, AParquetTableReadsTheSameBitsOnOneAndFourThreads) {
  const auto dir = testing_support::scratch_dir("reader_threads_parquet");
  const auto csv = write_wide_csv(dir, 300, 100);
  if (!write_typed_parquet(csv, dir / "wide.parquet", 128)) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  Table one, four;
  {
    testing_support::IntraOpThreads threads(1);
    one = read_table((dir / "wide.parquet").string());
  }
  {
    testing_support::IntraOpThreads threads(4);
    four = read_table((dir / "wide.parquet").string());
  }
  ASSERT_EQ(four.columns, one.columns);
  EXPECT_TRUE(torch::equal(four.values.nan_to_num(-1), one.values.nan_to_num(-1)));
  EXPECT_TRUE(torch::equal(four.values.nan_to_num(-1), read_table(csv.string()).values.nan_to_num(-1)));
}

// Two refused cells in different column blocks (the later row in the earlier block): the same one is named on
// one and four threads.
TEST(ReaderThreads, AParquetRefusalNamesTheSameCellOnOneAndFourThreads) {
  const auto dir = testing_support::scratch_dir("reader_threads_parquet_bad");
  const auto csv = write_wide_csv(dir, 300, 100, {{250, 1}, {3, 90}});
  if (!write_typed_parquet(csv, dir / "bad.parquet", 300)) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  std::string on_one, on_four;
  {
    testing_support::IntraOpThreads threads(1);
    on_one = parquet_refusal(dir / "bad.parquet");
  }
  for (int run = 0; run < 5; ++run) {
    testing_support::IntraOpThreads threads(4);
    on_four = parquet_refusal(dir / "bad.parquet");
    EXPECT_EQ(on_four, on_one);
  }
  EXPECT_NE(on_one.find("row 251: column 'f64_c1'"), std::string::npos) << on_one;
}
