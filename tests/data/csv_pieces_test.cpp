// The CSV reader parses a batch of 1 MB pieces in parallel, each cut at a line end that may lie inside a
// quoted field: the table, its ids and the line named in a refusal must not depend on the thread count.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "../support/input_error_of.hpp"
#include "../support/intra_op_threads.hpp"
#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::data;

namespace {

// `rows` rows whose quoted name spans two lines and is most of the row, so a cut at "the next line end after
// a position" mostly falls inside a quoted field; `bad_row` (from 0; -1: none) has `bad_cell` in column b.
fs::path write_quoted_lines(const std::string& name, int rows, int bad_row = -1, const std::string& bad_cell = "") {
  const fs::path file = testing_support::scratch_dir("csv_pieces_" + name) / "quoted.csv";
  std::ofstream out(file, std::ios::binary);
  out << "name,a,b,target\n";
  const std::string filler(40, 'x');
  for (int r = 0; r < rows; ++r) {
    out << "\"m" << r << ", " << filler << "\n" << filler << "\"," << r % 97 << '.' << r % 10 << ','
        << (r == bad_row ? bad_cell : std::to_string(r % 13)) << ',' << r % 5 << "\r\n";
  }
  return file;
}

std::string refusal(const fs::path& file) {
  return testing_support::input_error_of([&] { read_table(file.string()); });
}

}  // namespace

// at::parallel_for is an inline template: its `#pragma omp parallel` is compiled into our own translation units
// (this one has the libraries' flags), and without -fopenmp every "parallel" piece ran on the calling thread.
TEST(CsvPieces, ParallelForInOurCodeRunsOnSeveralThreads) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the ThreadSanitizer tree is built without OpenMP (cmake/SafetrainTarget.cmake)";
#endif
  testing_support::IntraOpThreads threads(2);
  std::mutex mutex;
  std::set<std::thread::id> seen;
  at::parallel_for(0, 64, 1, [&](int64_t, int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // so one thread cannot take every chunk
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(seen.size(), 2u) << "at::parallel_for ran on one thread: is the code compiled with -fopenmp?";
}

TEST(CsvPieces, ATableCutInsideQuotedLineBreaksReadsTheSameOnOneAndFourThreads) {
  const auto file = write_quoted_lines("same", 60000);  // ~6 MB: two batches of four pieces
  ASSERT_GT(fs::file_size(file), size_t{5} << 20);
  CsvColumnRoles roles;
  roles.id_columns = {"name"};
  Table one, four;
  {
    testing_support::IntraOpThreads threads(1);
    one = read_table(file.string(), {}, roles);
  }
  {
    testing_support::IntraOpThreads threads(4);
    four = read_table(file.string(), {}, roles);
  }
  ASSERT_EQ(four.values.size(0), 60000);
  EXPECT_TRUE(torch::equal(one.values, four.values));
  EXPECT_EQ(one.ids.values, four.ids.values);
  EXPECT_EQ(four.ids.values[0][59999], "m59999, " + std::string(40, 'x') + "\n" + std::string(40, 'x'));
  EXPECT_FLOAT_EQ(four.values[59999][0].item<float>(), 59999 % 97 + 0.1f * (59999 % 10));
}

TEST(CsvPieces, ARefusedCellOrRowInALaterPieceIsNamedByItsLine) {
  testing_support::IntraOpThreads threads(4);
  const int bad_row = 57123;  // each row is two lines: data row r starts on line 2 + 2r
  const auto cell = write_quoted_lines("bad_cell", 60000, bad_row, "oops");
  const std::string cell_at = cell.string() + ":" + std::to_string(2 + 2 * bad_row) + ":3: column 'b': 'oops'";
  EXPECT_NE(refusal(cell).find(cell_at), std::string::npos) << refusal(cell);
  const auto row = write_quoted_lines("bad_row", 60000, 41234, "1,2");
  const std::string row_at = row.string() + ":" + std::to_string(2 + 2 * 41234) + ": expected 4 cells";
  EXPECT_NE(refusal(row).find(row_at), std::string::npos) << refusal(row);
}

// A .gz is read ahead (the next batch inflated on one thread while the others parse this one): the same rows,
// ids and refusal lines as the plain file, on one and four threads.
TEST(CsvPieces, AGzipTableReadAheadReadsAsThePlainFile) {
  const auto file = write_quoted_lines("gzip_ahead", 60000);  // ~6 MB: several batches
  ASSERT_EQ(std::system(("gzip -k -f '" + file.string() + "'").c_str()), 0);
  const std::string gz = file.string() + ".gz";
  CsvColumnRoles roles;
  roles.id_columns = {"name"};
  const auto plain = read_table(file.string(), {}, roles);
  for (const int threads : {1, 4}) {
    testing_support::IntraOpThreads scope(threads);
    const auto inflated = read_table(gz, {}, roles);
    EXPECT_TRUE(torch::equal(inflated.values, plain.values)) << threads;
    EXPECT_EQ(inflated.ids.values, plain.ids.values) << threads;
  }
  const auto bad = write_quoted_lines("gzip_ahead_bad", 60000, 57123, "oops");
  ASSERT_EQ(std::system(("gzip -f '" + bad.string() + "'").c_str()), 0);
  testing_support::IntraOpThreads scope(4);
  const auto message = refusal(bad.string() + ".gz");
  EXPECT_NE(message.find(".csv.gz:" + std::to_string(2 + 2 * 57123) + ":3: column 'b': 'oops'"), std::string::npos)
      << message;
}
