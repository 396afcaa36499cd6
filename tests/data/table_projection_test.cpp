// TableSource::with_columns: a source over the same rows reading only some numeric columns, in the order
// asked for, for every format (CSV, Parquet, tensor). The pruner reads its duplicate pairs and its survivors
// this way.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../support/parquet_fixture.hpp"
#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/data/tensor_source.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::data;

namespace {

// 300 rows (several 64-row Parquet row groups, several batches): an id column, a text column the CSV reader
// skips, numbers with missing cells.
fs::path projection_csv(const fs::path& dir) {
  std::ofstream out(dir / "t.csv");
  out << "name,a,smiles,b,c,d,target\n";
  for (int r = 0; r < 300; ++r) {
    out << "m" << r << "," << r * 0.5 << ",CCO," << (r % 7 == 0 ? "" : std::to_string(r % 11)) << "," << -r << ","
        << r * r << "," << (r % 3) + 0.25 << "\n";
  }
  return dir / "t.csv";
}

bool projection_parquet(const fs::path& csv, const fs::path& out) {
  return safetrain::testing_support::write_parquet_fixture("float32", csv, out, 64);
}

std::string projection_error(const TableSource& source, const std::vector<std::string>& names) {
  try {
    source.with_columns(names);
  } catch (const InputError& e) {
    return e.what();
  }
  return "<no InputError>";
}

// The projection reads the full source's values of those columns, in the order asked for, in the same
// batches, from the first row whatever the full source had read; it refuses names it cannot read.
void expect_projection_of(TableSource& full) {
  full.set_batch_rows(50);
  const auto whole = read_table(full);
  ASSERT_EQ(whole.values.size(0), 300);
  full.rewind();
  ASSERT_TRUE(full.next_batch().has_value());  // the projection starts at row 0 all the same
  const std::vector<std::string> asked = {"d", "a", "target"};
  const auto projected = full.with_columns(asked);
  EXPECT_EQ(projected->columns(), asked);
  EXPECT_TRUE(projected->id_columns().empty());
  EXPECT_EQ(projected->batch_rows(), 50);
  std::vector<int64_t> positions;
  for (const auto& name : asked) positions.push_back(column_index(whole, name));
  const auto expected = whole.values.index_select(1, torch::tensor(positions)).nan_to_num(-1);
  std::vector<torch::Tensor> batches;
  while (auto batch = projected->next_batch()) batches.push_back(batch->clone());
  EXPECT_EQ(batches.size(), 6u);
  EXPECT_TRUE(torch::equal(torch::cat(batches).nan_to_num(-1), expected));
  projected->rewind();
  EXPECT_TRUE(torch::equal(read_table(*projected).values.nan_to_num(-1), expected));
  const auto narrower = projected->with_columns({"target", "d"});  // a projection of a projection
  EXPECT_TRUE(torch::equal(read_table(*narrower).values.nan_to_num(-1), expected.index_select(1, torch::tensor({2, 0}))));
  EXPECT_NE(projection_error(full, {"a", "nope"}).find("column 'nope' is not a numeric column"), std::string::npos);
  EXPECT_NE(projection_error(full, {"a", "b", "a"}).find("column 'a' is asked for twice"), std::string::npos);
  EXPECT_NE(projection_error(*projected, {"a", "b"}).find("column 'b' is not a numeric column"), std::string::npos);
}

}  // namespace

TEST(TableProjection, CsvConvertsOnlyTheColumnsAskedForInTheirOrder) {
  const auto dir = safetrain::testing_support::scratch_dir("projection_csv");
  CsvColumnRoles roles;
  roles.id_columns = {"name"};
  auto full = open_table_source(projection_csv(dir).string(), {}, roles);
  ASSERT_EQ(full->columns(), (std::vector<std::string>{"a", "b", "c", "d", "target"}));  // smiles: text, skipped
  expect_projection_of(*full);
  EXPECT_NE(projection_error(*full, {"name"}).find("column 'name' is not a numeric column"), std::string::npos);
  EXPECT_NE(projection_error(*full, {"smiles"}).find("column 'smiles' is not a numeric column"), std::string::npos);
  fs::remove_all(dir);
}

TEST(TableProjection, ParquetReadsOnlyTheColumnsAskedForInTheirOrder) {
  const auto dir = safetrain::testing_support::scratch_dir("projection_parquet");
  const auto csv = projection_csv(dir);
  if (!projection_parquet(csv, dir / "t.parquet")) GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  CsvColumnRoles roles;
  roles.id_columns = {"name"};
  auto full = open_table_source((dir / "t.parquet").string(), {}, roles);
  ASSERT_EQ(full->columns(), (std::vector<std::string>{"a", "b", "c", "d", "target"}));
  expect_projection_of(*full);
  auto from_csv = open_table_source(csv.string(), {}, roles);  // and the same values as the CSV's projection
  EXPECT_TRUE(torch::equal(read_table(*full->with_columns({"b", "c"})).values.nan_to_num(-1),
                           read_table(*from_csv->with_columns({"b", "c"})).values.nan_to_num(-1)));
  fs::remove_all(dir);
}

TEST(TableProjection, TensorSourceSelectsTheColumnsWithoutCopyingTheTable) {
  const auto values = torch::arange(300 * 5, torch::kFloat).reshape({300, 5});
  TensorTableSource full({"a", "b", "c", "d", "target"}, values, 50);
  expect_projection_of(full);
  const auto projected = full.with_columns({"c"});
  std::vector<float> rows(4);
  ASSERT_EQ(projected->read_rows(rows.data(), 4, nullptr), 4);
  EXPECT_EQ(rows, (std::vector<float>{2, 7, 12, 17}));
  EXPECT_NE(projected->fingerprint(), full.fingerprint());
  EXPECT_EQ(projected->fingerprint(), TensorTableSource({"c"}, values.select(1, 2).unsqueeze(1).clone(), 50).fingerprint());
}
