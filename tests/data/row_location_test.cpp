// Messages about values judged after the read name the file, line and column where the row lives,
// across quoted line breaks, blank lines and the files of a glob.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../support/scratch_dir.hpp"
#include "row_location.hpp"

namespace fs = std::filesystem;
using safetrain::data::detail::cell_location;

namespace {

fs::path put(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
  return file;
}

}  // namespace

TEST(RowLocation, CountsQuotedLineBreaksAndBlankLines) {
  const auto dir = safetrain::testing_support::scratch_dir("row_location_one");
  const auto file = put(dir / "t.csv", "name,a,target\n\"two\nlines\",1,2\n\nx,3,4\ny,5,6\n");
  // Row 0 starts on line 2; row 1 on line 5 (line 3 continues the quoted cell, line 4 is blank).
  EXPECT_EQ(cell_location(file.string(), 0, "target"), file.string() + ":2:3 (column 'target')");
  EXPECT_EQ(cell_location(file.string(), 1, "a"), file.string() + ":5:2 (column 'a')");
  EXPECT_EQ(cell_location(file.string(), 2, "target"), file.string() + ":6:3 (column 'target')");
}

TEST(RowLocation, FindsTheFileOfAGlobAndItsDelimiter) {
  const auto dir = safetrain::testing_support::scratch_dir("row_location_glob");
  put(dir / "part1.csv", "a;\"the target\"\n1;2\n3;4\n");
  const auto second = put(dir / "part2.csv", "a;\"the target\"\n5;6\n7;8\n");
  EXPECT_EQ(cell_location((dir / "part*.csv").string(), 3, "the target"),
            second.string() + ":3:2 (column 'the target')");
}

TEST(RowLocation, AGeneratorIsNamedWithTheRow) {
  EXPECT_EQ(cell_location("synthetic 6-DoF arm (seed 1)", 7, "x"), "synthetic 6-DoF arm (seed 1): row 7 (from 0), column 'x'");
}
