// A user's own data (issue 26): own splits (data.split_column, data.group_column) through split_table, the one
// split function of the trainer and of any re-split of the training table (item 10); warnings for a feature that
// is almost a copy of a target and for a row-id column (item 7); missing cells in used columns refused while the
// table is read, memory and mmap storage, naming file:line:column (item 8).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "safetrain/data/leak_checks.hpp"
#include "safetrain/data/mapped_storage.hpp"
#include "safetrain/data/prepare.hpp"
#include "safetrain/data/table_source.hpp"
#include "../support/input_error_of.hpp"
#include "../support/scratch_dir.hpp"

using namespace safetrain;
using namespace safetrain::data;
using safetrain::testing_support::input_error_of;
namespace fs = std::filesystem;
using Missing = CsvColumnRoles::MissingCells;

namespace {

fs::path write_csv(const std::string& name, const std::string& text) {
  static const fs::path dir = safetrain::testing_support::scratch_dir("own_splits_test");
  const fs::path file = dir / name;
  std::ofstream(file) << text;
  return file;
}

Table read_with(const fs::path& file, const std::vector<std::string>& text_columns) {
  CsvColumnRoles roles;
  roles.id_columns = text_columns;
  return read_table(file.string(), {}, roles);
}

std::vector<int64_t> rows_of(const torch::Tensor& t) { return {t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()}; }

}  // namespace

TEST(OwnSplits, SplitColumnPlacesEveryRowByItsLabel) {
  const auto file = write_csv("labels.csv", "x,y,fold\n1,2,train\n2,3,test\n3,4,val\n4,5,train\n5,6, test\n");
  const auto table = read_with(file, {"fold"});
  SplitOptions o;
  o.split_column = "fold";
  const auto split = split_table(table, o);
  EXPECT_EQ(rows_of(split.train), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(rows_of(split.val), (std::vector<int64_t>{2}));
  EXPECT_EQ(rows_of(split.test), (std::vector<int64_t>{1, 4}));
  // the fractions do not apply
  o.train_fraction = 0.1;
  EXPECT_EQ(rows_of(split_table(table, o).train), (std::vector<int64_t>{0, 3}));
}

TEST(OwnSplits, AnotherLabelIsRefusedNamingTheCell) {
  const auto file = write_csv("bad_label.csv", "x,y,fold\n1,2,train\n2,3,valid\n");
  const auto table = read_with(file, {"fold"});
  SplitOptions o;
  o.split_column = "fold";
  const auto message = input_error_of([&] { split_table(table, o); });
  EXPECT_NE(message.find("bad_label.csv:3:3"), std::string::npos) << message;
  EXPECT_NE(message.find("data.split_column: value 'valid' is not one of train, val, test"), std::string::npos)
      << message;
}

TEST(OwnSplits, GroupColumnKeepsEachGroupInOneSplitDeterministically) {
  std::string text = "x,y,scaffold\n";
  for (int r = 0; r < 2000; ++r) text += std::to_string(r) + ",1,s" + std::to_string((r * 7919) % 200) + "\n";
  const auto table = read_with(write_csv("groups.csv", text), {"scaffold"});
  SplitOptions o;
  o.group_column = "scaffold";
  o.seed = 3;
  const auto split = split_table(table, o);
  const auto& names = table.ids.values[0];
  std::map<std::string, std::set<int>> splits_of_group;
  int which = 0;
  for (const auto* part : {&split.train, &split.val, &split.test}) {
    for (const auto r : rows_of(*part)) splits_of_group[names[static_cast<size_t>(r)]].insert(which);
    ++which;
  }
  EXPECT_EQ(splits_of_group.size(), 200u);
  for (const auto& [group, in] : splits_of_group) EXPECT_EQ(in.size(), 1u) << group << " is in several splits";
  EXPECT_EQ(split.train.size(0) + split.val.size(0) + split.test.size(0), 2000);
  // groups of 10 rows: each fraction within one group of its quota
  EXPECT_NEAR(split.train.size(0), 1600, 10);
  EXPECT_NEAR(split.val.size(0), 200, 10);
  EXPECT_NEAR(split.test.size(0), 200, 10);
  EXPECT_TRUE(torch::equal(split_table(table, o).val, split.val));
  o.seed = 4;
  EXPECT_FALSE(torch::equal(split_table(table, o).val, split.val));
}

TEST(OwnSplits, WithoutOwnColumnsTheSeededSplitIsUnchanged) {
  const auto table = read_with(write_csv("plain.csv", "x,y\n1,2\n2,3\n3,4\n4,5\n5,6\n6,7\n7,8\n8,9\n9,0\n0,1\n"), {});
  SplitOptions o;
  o.seed = 11;
  const auto a = split_table(table, o), b = split_indices(10, o);
  EXPECT_TRUE(torch::equal(a.train, b.train));
  EXPECT_TRUE(torch::equal(a.test, b.test));
}

TEST(OwnSplits, PrepareUsesTheSplitColumnAndNeverAsAFeature) {
  const auto file = write_csv("prepare.csv", "x,target,fold\n1,2,train\n2,3,train\n3,4,val\n4,5,test\n5,6,train\n");
  SplitOptions o;
  o.split_column = "fold";
  ColumnSelection columns;
  columns.targets = {"target"};
  const auto data = prepare(read_with(file, {"fold"}), columns, o);
  EXPECT_EQ(data.feature_names, (std::vector<std::string>{"x"}));
  EXPECT_EQ(rows_of(data.train.row_ids), (std::vector<int64_t>{0, 1, 4}));
  EXPECT_EQ(rows_of(data.test.row_ids), (std::vector<int64_t>{3}));
}

// ---- item 7: leaks and ids

namespace {

Table table_with(const std::vector<std::string>& columns, const torch::Tensor& values) {
  Table t;
  t.columns = columns;
  t.values = values.contiguous();
  t.source = "test table";
  return t;
}

}  // namespace

TEST(LeakChecks, AFeatureThatCopiesATargetIsWarnedWithItsFigureAndKey) {
  torch::manual_seed(0);
  const int64_t rows = 500;
  const auto target = torch::randn({rows, 1});
  const auto copy = target * 3 + 1 + 1e-3 * torch::randn({rows, 1});  // a rescaled target, a little noise
  const auto honest = 0.5 * target + torch::randn({rows, 1});
  ColumnSelection columns;
  columns.targets = {"y"};
  const auto data = prepare(table_with({"copy", "honest", "y"}, torch::cat({copy, honest, target}, 1)), columns, {});
  const auto lines = warn_about_leaks(data, {}, false);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("feature 'copy' predicts target 'y'"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("Pearson r 0.99999"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("data.ignore_columns: [copy]"), std::string::npos) << lines[0];
  EXPECT_NE(warn_about_leaks(data, {}, true)[0].find("remove 'copy' from data.features"), std::string::npos);
}

TEST(LeakChecks, AnticorrelatedCopyCountsAndAModerateOneDoesNot) {
  torch::manual_seed(1);
  const auto target = torch::randn({400, 1});
  ColumnSelection columns;
  columns.targets = {"y"};
  const auto data = prepare(table_with({"neg", "near", "y"}, torch::cat({-target, target + 0.1 * torch::randn({400, 1}),
                                                                          target}, 1)), columns, {});
  const auto found = near_copies_of_targets(data);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].feature, "neg");
  EXPECT_LT(found[0].r, -0.999);
}

TEST(LeakChecks, IdLikeColumnsAreUniqueMonotoneIntegersInSourceOrder) {
  const int64_t rows = 100;
  const auto counter = torch::arange(1000, 1000 + rows, torch::kFloat).unsqueeze(1);
  const auto falling = torch::arange(rows, 0, -1, torch::kFloat).unsqueeze(1);
  auto repeated = counter.clone();
  repeated[50][0] = repeated[49][0];  // not unique
  const auto fractional = counter + 0.5;
  const auto shuffled = counter.index_select(0, torch::randperm(rows));
  const auto values = torch::cat({counter, falling, repeated, fractional, shuffled}, 1).contiguous();
  const std::vector<std::string> names = {"mol_id", "countdown", "repeated", "fractional", "shuffled"};
  const auto found = id_like_columns(values, {}, names, names);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name, "mol_id");
  EXPECT_EQ(found[0].first, 1000);
  EXPECT_EQ(found[0].last, 1099);
  EXPECT_EQ(found[1].name, "countdown");
  // rows held in another order (a split) are put back in source order by their row ids
  const auto order = torch::randperm(rows);
  EXPECT_EQ(id_like_columns(values.index_select(0, order), order, names, {"mol_id"}).size(), 1u);
  // too few rows to judge
  EXPECT_TRUE(id_like_columns(values.narrow(0, 0, kIdMinRows - 1), {}, names, names).empty());
}

TEST(LeakChecks, IdLineNamesTheColumnTheRangeAndTheKeys) {
  const int64_t rows = 200;
  torch::manual_seed(2);
  const auto values = torch::cat({torch::arange(1, rows + 1, torch::kFloat).unsqueeze(1), torch::randn({rows, 2})}, 1);
  const auto table = table_with({"mol_id", "x", "y"}, values);
  const auto id_like = id_like_columns(table.values, {}, table.columns, table.columns);
  ColumnSelection columns;
  columns.targets = {"y"};
  const auto data = prepare(table, columns, {});
  const auto lines = warn_about_leaks(data, id_like, false);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("feature 'mol_id' looks like a row id (integers 1 to 200"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("data.ignore_columns: [mol_id]"), std::string::npos) << lines[0];
}

// ---- item 8: missing cells while reading

namespace {

const fs::path& dir() {
  static const fs::path d = safetrain::testing_support::scratch_dir("missing_cells_test");
  return d;
}

fs::path table_with_gaps() {
  const fs::path file = dir() / "gaps.csv";
  std::ofstream out(file);
  out << "a,b,target_y,target_other\n";
  for (int r = 0; r < 50; ++r) {
    const bool gap_in_b = r == 30, gap_in_y = r == 40, gap_in_other = r == 10;
    out << r << ',' << (gap_in_b ? "" : "1.5") << ',' << (gap_in_y ? "NA" : "2") << ',' << (gap_in_other ? "" : "3")
        << '\n';
  }
  return file;
}

CsvColumnRoles roles_for(Missing missing) {
  CsvColumnRoles roles;
  roles.numeric = {"target_y"};
  roles.missing = missing;
  return roles;
}

}  // namespace

TEST(MissingCells, ATargetGapIsRefusedWhileReadingWithItsLine) {
  const auto message = input_error_of([&] { read_table(table_with_gaps().string(), {}, roles_for(Missing::refused_in_required)); });
  EXPECT_NE(message.find("gaps.csv:42:3 (column 'target_y')"), std::string::npos) << message;
  EXPECT_NE(message.find("missing value in column 'target_y'"), std::string::npos) << message;
  EXPECT_NE(message.find("data.nan_policy"), std::string::npos) << message;
}

TEST(MissingCells, EveryFeatureColumnIsCheckedWhenAllAreUsedButNotTargetLikeOnes) {
  const auto message = input_error_of([&] { read_table(table_with_gaps().string(), {}, roles_for(Missing::refused_in_all)); });
  // row 30 (line 32) in 'b' comes first; target_other's gap at row 10 is not a used column
  EXPECT_NE(message.find("gaps.csv:32:2 (column 'b')"), std::string::npos) << message;
}

TEST(MissingCells, AllowedUnderTheOtherPolicies) {
  const auto table = read_table(table_with_gaps().string(), {}, roles_for(Missing::allowed));
  EXPECT_EQ(table.values.size(0), 50);
  EXPECT_TRUE(torch::isnan(table.values).any().item<bool>());
}

TEST(MissingCells, TheMmapConversionRefusesTheSameCell) {
  const auto message = input_error_of([&] {
    map_source_table(table_with_gaps().string(), {}, roles_for(Missing::refused_in_required), {}, dir() / "cache");
  });
  EXPECT_NE(message.find("gaps.csv:42:3 (column 'target_y')"), std::string::npos) << message;
}
