#include <gtest/gtest.h>

#include <fstream>

#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"
#include "../support/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::data;

namespace {

fs::path dir_for(const std::string& name) {
  return safetrain::testing_support::scratch_dir("csv_test/" + name);
}

fs::path write(const fs::path& file, const std::string& text) {
  std::ofstream(file) << text;
  return file;
}

std::string error_of(const std::string& pattern) {
  try {
    read_table(pattern);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Csv, ReadsNumbersAndMissingCellsAsNaN) {
  const auto dir = dir_for("basic");
  const auto file = write(dir / "a.csv", "a,b,target\n1,2.5,3\n-4e-1, NA ,\n\"7\",nan,-2e3\n");
  const auto t = read_table(file.string());
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b", "target"}));
  ASSERT_EQ(t.values.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_FLOAT_EQ(t.values[1][0].item<float>(), -0.4f);
  EXPECT_TRUE(std::isnan(t.values[1][1].item<float>()));
  EXPECT_TRUE(std::isnan(t.values[1][2].item<float>()));
  EXPECT_FLOAT_EQ(t.values[2][0].item<float>(), 7.0f);
  EXPECT_FLOAT_EQ(t.values[2][2].item<float>(), -2000.0f);  // inf is refused: tests/hostile/csv
}

TEST(Csv, GlobReadsEveryFileInOrder) {
  const auto dir = dir_for("glob");
  write(dir / "part1.csv", "x,y\n1,2\n");
  write(dir / "part2.csv", "x,y\n3,4\n5,6\n");
  const auto t = read_table((dir / "part*.csv").string());
  ASSERT_EQ(t.values.size(0), 3);
  EXPECT_FLOAT_EQ(t.values[2][1].item<float>(), 6.0f);
}

TEST(Csv, MalformedInputNamesFileLineAndColumn) {
  const auto dir = dir_for("errors");
  const auto ragged = write(dir / "ragged.csv", "a,b\n1,2\n3\n");
  EXPECT_NE(error_of(ragged.string()).find("ragged.csv:3: expected 2 cells"), std::string::npos)
      << error_of(ragged.string());
  const auto text = write(dir / "text.csv", "a,b\n1,2\n3,abc\n");
  EXPECT_NE(error_of(text.string()).find("text.csv:3:2: column 'b': 'abc' is not a number"), std::string::npos)
      << error_of(text.string());
  const auto empty = write(dir / "empty.csv", "");
  EXPECT_NE(error_of(empty.string()).find("empty file"), std::string::npos);
  const auto header_only = write(dir / "header.csv", "a,b\n");
  EXPECT_NE(error_of(header_only.string()).find("no data rows"), std::string::npos);
  write(dir / "m1.csv", "a,b\n1,2\n");
  write(dir / "m2.csv", "a,c\n1,2\n");
  EXPECT_NE(error_of((dir / "m*.csv").string()).find("m2.csv:1:2: header differs"), std::string::npos)
      << error_of((dir / "m*.csv").string());
  EXPECT_NE(error_of((dir / "nothing*.csv").string()).find("no such file"), std::string::npos);
}

TEST(Csv, BatchReaderCoversEveryRowAndRewinds) {
  const auto dir = dir_for("batches");
  std::string text = "v,w\n";
  for (int i = 0; i < 25; ++i) text += std::to_string(i) + "," + std::to_string(2 * i) + "\n";
  write(dir / "a.csv", text);
  write(dir / "b.csv", "v,w\n100,200\n");
  auto reader = open_table_source((dir / "*.csv").string(), {});
  reader->set_batch_rows(10);
  for (int pass = 0; pass < 2; ++pass) {
    int64_t rows = 0, batches = 0;
    double sum = 0;
    while (auto batch = reader->next_batch()) {
      EXPECT_LE(batch->size(0), 10);
      rows += batch->size(0);
      sum += batch->select(1, 0).sum().item<double>();
      ++batches;
    }
    EXPECT_EQ(rows, 26);
    EXPECT_DOUBLE_EQ(sum, 300.0 + 100.0);
    EXPECT_EQ(batches, 3);
    reader->rewind();
  }
}

TEST(Csv, NumberEdgeCasesUnderflowToZeroOverflowIsRefused) {
  const auto dir = dir_for("numbers");
  const auto file = write(dir / "n.csv", "a,b,c,d\n+1.5,1e-50,-1e-400,3.4e38\r\n");
  const auto t = read_table(file.string());
  EXPECT_FLOAT_EQ(t.values[0][0].item<float>(), 1.5f);
  EXPECT_EQ(t.values[0][1].item<float>(), 0.0f);
  EXPECT_EQ(t.values[0][2].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t.values[0][3].item<float>(), 3.4e38f);
  EXPECT_EQ(t.values.storage().nbytes(), static_cast<size_t>(t.values.numel() * 4));
  // Beyond float32 (or double) the value would train as inf: refused, with its place.
  const auto big = write(dir / "big.csv", "a,b\n1,2\n-1e50,1\n");
  try {
    read_table(big.string());
    FAIL() << "-1e50 must be refused";
  } catch (const safetrain::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("big.csv:3:1: column 'a': '-1e50' is not a finite 32-bit number"),
              std::string::npos)
        << e.what();
  }
}

namespace {

std::filesystem::path write_csv(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::path(SAFETRAIN_BINARY_DIR) / "csv-roles-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name) << text;
  return dir / name;
}

}  // namespace

TEST(CsvRoles, TextColumnsThatAreNotUsedAreSkippedIdsAreCarried) {
  // Regression: any non-numeric column was fatal, even an ID or SMILES column nobody asked for.
  const auto file = write_csv("roles.csv", "id,smiles,a,b,target\nm1,CCO,1,2,3\nm2,c1ccccc1,4,5,6\n");
  CsvColumnRoles roles;
  roles.id_columns = {"id"};
  const auto table = read_table(file.string(), {}, roles);
  EXPECT_EQ(table.columns, (std::vector<std::string>{"a", "b", "target"}));
  ASSERT_EQ(table.ids.names, (std::vector<std::string>{"id"}));
  EXPECT_EQ(table.ids.values[0], (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(table.values.size(0), 2);
  roles.ignore_columns = {"a"};
  EXPECT_EQ(read_table(file.string(), {}, roles).columns, (std::vector<std::string>{"b", "target"}));
}

TEST(CsvRoles, TextInAUsedColumnStaysAnErrorWithFileLineColumn) {
  const auto file = write_csv("used_text.csv", "a,target\n1,high\n2,3\n");
  CsvColumnRoles roles;
  roles.numeric = {"target"};
  try {
    read_table(file.string(), {}, roles);
    FAIL() << "text in a target column must be refused";
  } catch (const safetrain::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("used_text.csv:2:2: column 'target': 'high' is not a number"),
              std::string::npos)
        << e.what();
  }
  roles = {};
  roles.id_columns = {"nope"};
  EXPECT_THROW(read_table(file.string(), {}, roles), safetrain::InputError);
}
