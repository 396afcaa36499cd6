// TableSource::read_columns: Parquet decodes each column chunk straight into its column (the pruner's
// column-major survivor load), with the same values as a row-wise read, on any number of threads.
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>
#include <string>

#include "../support/intra_op_threads.hpp"
#include "../support/parquet_fixture.hpp"
#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::data;

namespace {

// `rows` rows of 30 columns (some cells empty) from row `first` on; `bad_row` (-1: none) holds 1e39 in c7.
fs::path column_csv(const fs::path& dir, const std::string& name, int first, int rows, int bad_row = -1) {
  std::ofstream out(dir / name, std::ios::binary);
  for (int c = 0; c < 30; ++c) out << "f64_c" << c << ',';
  out << "target\n";
  for (int r = first; r < first + rows; ++r) {
    for (int c = 0; c < 30; ++c) {
      if (r == bad_row && c == 7) out << "1e39,";
      else out << ((r + c) % 9 == 0 ? std::string() : std::to_string(r * 0.25 - c)) << ',';
    }
    out << r % 4 << '\n';
  }
  return dir / name;
}

}  // namespace

TEST(ParquetColumns, AGlobReadsColumnByColumnAsItReadsRowByRow) {
  const auto dir = testing_support::scratch_dir("parquet_columns");
  const auto one = column_csv(dir, "one.csv", 0, 300), two = column_csv(dir, "two.csv", 300, 170);
  if (!testing_support::write_parquet_fixture("typed", one, dir / "part1.parquet", 128) ||
      !testing_support::write_parquet_fixture("typed", two, dir / "part2.parquet", 128)) {
    GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  }
  const std::string glob = (dir / "part*.parquet").string();
  const auto rows = read_table(glob).values;  // 470 x 31, row-major
  for (const int threads : {1, 4}) {
    testing_support::IntraOpThreads scope(threads);
    auto source = open_table_source(glob, {});
    source->read_rows(std::vector<float>(31 * 5).data(), 5, nullptr);  // read_columns starts from the first row
    auto columns = torch::full({31, 473}, -7.0f);                     // 3 rows of room left untouched
    ASSERT_TRUE(source->reads_columns());
    EXPECT_EQ(source->read_columns(columns.data_ptr<float>(), 473), 470);
    EXPECT_TRUE(torch::equal(columns.narrow(1, 0, 470).t().nan_to_num(-1), rows.nan_to_num(-1))) << threads;
    EXPECT_TRUE((columns.narrow(1, 470, 3) == -7.0f).all().item<bool>());
    EXPECT_EQ(source->read_rows(std::vector<float>(31).data(), 1, nullptr), 0);  // left at its end
  }
  auto small = torch::empty({31, 400});
  EXPECT_THROW(open_table_source(glob, {})->read_columns(small.data_ptr<float>(), 400), std::runtime_error);
  const auto csv = open_table_source(one.string(), {});
  EXPECT_FALSE(csv->reads_columns());
  EXPECT_THROW(csv->read_columns(small.data_ptr<float>(), 400), std::logic_error);
}

TEST(ParquetColumns, ARefusedCellIsNamedByItsFileRowAndColumn) {
  const auto dir = testing_support::scratch_dir("parquet_columns_bad");
  const auto csv = column_csv(dir, "bad.csv", 0, 300, 200);
  if (!testing_support::write_parquet_fixture("typed", csv, dir / "bad.parquet", 128)) {
    GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  }
  auto columns = torch::empty({31, 300});
  try {
    open_table_source((dir / "bad.parquet").string(), {})->read_columns(columns.data_ptr<float>(), 300);
    FAIL() << "1e39 was read into a float32 column";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.parquet: row 201: column 'f64_c7'"), std::string::npos) << e.what();
  }
}
