// The malformed-CSV corpus in tests/fixtures/data/malformed: every file gets
// an InputError naming its file, line and column (or key).
#include <gtest/gtest.h>

#include <filesystem>
#include <ostream>

#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/data/prepare.hpp"

using namespace safetrain;
using namespace safetrain::data;

namespace {

struct MalformedCase {
  std::string input;     // file or glob under the corpus directory
  std::string expected;  // substring of the error message
};

std::ostream& operator<<(std::ostream& out, const MalformedCase& c) { return out << c.input; }

std::string corpus(const std::string& name) {
  return (std::filesystem::path(SAFETRAIN_TEST_DATA_DIR) / "data" / "malformed" / name).string();
}

std::string read_error(const std::string& input) {
  try {
    read_table(input);
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

// The fixture and its tests share the case type's internal linkage.
class MalformedCsv : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedCsv, NamesFileLineAndColumn) {
  const auto error = read_error(corpus(GetParam().input));
  EXPECT_NE(error.find(GetParam().expected), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, MalformedCsv,
    ::testing::Values(
        MalformedCase{"empty.csv", "empty.csv: empty file"},
        MalformedCase{"blank_lines_only.csv", "blank_lines_only.csv: empty file"},
        MalformedCase{"header_only.csv", "header_only.csv: no data rows"},
        MalformedCase{"ragged_short.csv", "ragged_short.csv:3: expected 3 cells (as in the header), found 2"},
        MalformedCase{"ragged_trailing_comma.csv", "ragged_trailing_comma.csv:3: expected 3 cells"},
        MalformedCase{"text_cell.csv", "text_cell.csv:3:2: column 'b': 'abc' is not a number"},
        MalformedCase{"trailing_garbage.csv", "trailing_garbage.csv:3:3: column 'y': '1.5x' is not a number"},
        MalformedCase{"two_decimal_points.csv", "two_decimal_points.csv:2:1: column 'a': '1.2.3'"},
        MalformedCase{"hex_number.csv", "hex_number.csv:3:1: column 'a': '0x10' is not a number"},
        MalformedCase{"space_inside_number.csv", "space_inside_number.csv:3:2: column 'b': '5 6'"},
        MalformedCase{"plus_minus.csv", "plus_minus.csv:3:2: column 'b': '+-5' is not a number"},
        MalformedCase{"incomplete_exponent.csv", "incomplete_exponent.csv:3:3: column 'y': '1e'"},
        MalformedCase{"unbalanced_quote.csv", "unbalanced_quote.csv:2: expected 3 cells (as in the header), found 1"},
        MalformedCase{"empty_column_name.csv", "empty_column_name.csv:1:2: empty column name"},
        MalformedCase{"trailing_delimiter_every_line.csv",
                      "trailing_delimiter_every_line.csv:1:4: empty column name in the header (a delimiter at the end of the line?)"},
        MalformedCase{"duplicate_column_name.csv", "duplicate_column_name.csv:1:3: column name 'a' repeats column 1"},
        MalformedCase{"header_mismatch/part*.csv", "part2.csv:1:2: header differs"},
        MalformedCase{"header_shorter/part*.csv", "part2.csv:1:3: header differs"},
        MalformedCase{"late_ragged/part*.csv", "late_ragged/part2.csv:4: expected 3 cells"},
        MalformedCase{"no_such_file_*.csv", "no such file"}));

TEST(MalformedCsvCorpus, SemicolonSeparatedFileIsSniffedAndRead) {
  const auto table = read_table(corpus("semicolon_separated.csv"));
  EXPECT_EQ(table.columns, (std::vector<std::string>{"a", "b", "y"}));
  EXPECT_EQ(table.values[0][2].item<float>(), 3.0f);
}

TEST(MalformedCsvCorpus, MissingTargetColumnNamesKeyAndFile) {
  const auto table = read_table(corpus("missing_target_column.csv"));
  ColumnSelection selection;
  selection.targets = {"y"};
  try {
    prepare(table, selection, SplitOptions{});
    FAIL() << "a missing target column must be an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("data.targets: column 'y' is not in"), std::string::npos) << message;
    EXPECT_NE(message.find("missing_target_column.csv"), std::string::npos) << message;
  }
}

}  // namespace
