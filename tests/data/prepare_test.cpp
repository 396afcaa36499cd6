#include <gtest/gtest.h>

#include <set>

#include "safetrain/common/error.hpp"
#include "safetrain/data/prepare.hpp"
#include "safetrain/data/synthetic_arm.hpp"

using namespace safetrain;
using namespace safetrain::data;

namespace {

Table small_table(int64_t rows) {
  Table t;
  t.columns = {"f1", "f2", "target_a", "target_b"};
  t.values = torch::randn({rows, 4});
  t.source = "test table";
  return t;
}

}  // namespace

TEST(Synthetic, DeterministicNamedAndShaped) {
  SyntheticOptions o;
  o.rows = 500;
  o.descriptor_columns = 16;
  const auto a = make_synthetic_arm(o);
  const auto b = make_synthetic_arm(o);
  EXPECT_TRUE(torch::equal(a.values.nan_to_num(0), b.values.nan_to_num(0)));
  EXPECT_EQ(a.values.size(0), 500);
  EXPECT_EQ(a.values.size(1), static_cast<int64_t>(a.columns.size()));
  EXPECT_EQ(a.columns.size(), 6u + 6u + 2u + 16u + 6u);
  for (const auto& name : synthetic_target_names()) EXPECT_GE(column_index(a, name), 0) << name;
  o.seed = 7;
  EXPECT_FALSE(torch::equal(make_synthetic_arm(o).values.nan_to_num(0), a.values.nan_to_num(0)));
  // Mostly-missing and constant descriptors exist for the pipeline to drop.
  EXPECT_TRUE(torch::isnan(a.values).any().item<bool>());
  // Positions stay within the arm's reach (about 1 m).
  EXPECT_LT(a.values.select(1, column_index(a, "x")).abs().max().item<float>(), 1.2f);
}

TEST(Split, DisjointCoveringAndReproducible) {
  SplitOptions o;
  const auto s = split_indices(1000, o);
  EXPECT_EQ(s.train.size(0), 800);
  EXPECT_EQ(s.val.size(0), 100);
  EXPECT_EQ(s.test.size(0), 100);
  std::set<int64_t> seen;
  for (const auto* part : {&s.train, &s.val, &s.test}) {
    for (int64_t i = 0; i < part->size(0); ++i) EXPECT_TRUE(seen.insert((*part)[i].item<int64_t>()).second);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_TRUE(torch::equal(split_indices(1000, o).val, s.val));
  o.seed = 1;
  EXPECT_FALSE(torch::equal(split_indices(1000, o).val, s.val));
}

TEST(Prepare, ScalesWithTrainingStatisticsOnlyAndCarriesNames) {
  torch::manual_seed(0);
  auto table = small_table(400);
  table.values.select(1, 0).mul_(10).add_(5);
  ColumnSelection selection;
  selection.target_prefix = "target_";
  const auto p = prepare(table, selection, SplitOptions{});
  EXPECT_EQ(p.target_names, (std::vector<std::string>{"target_a", "target_b"}));
  EXPECT_EQ(p.feature_names, (std::vector<std::string>{"f1", "f2"}));
  EXPECT_NEAR(p.train.x.mean(0)[0].item<float>(), 0.0f, 1e-4);
  EXPECT_NEAR(p.train.x.std(0)[0].item<float>(), 1.0f, 1e-4);
  const auto raw_train = table.values.index_select(0, p.train.row_ids).select(1, 0);
  EXPECT_NEAR(p.feature_scaler.mean[0].item<float>(), raw_train.mean().item<float>(), 1e-4);
  EXPECT_NE(p.val.x.mean(0)[0].item<float>(), 0.0f);  // val statistics were not used
  EXPECT_EQ(p.train.x.storage().nbytes(), static_cast<size_t>(p.train.x.numel() * 4));
}

TEST(Prepare, MissingValuesRefusedDroppedOrFilled) {
  torch::manual_seed(0);
  auto table = small_table(200);
  table.values.select(1, 1).narrow(0, 0, 50).fill_(NAN);
  ColumnSelection selection;
  selection.targets = {"target_a"};
  SplitOptions o;
  try {
    prepare(table, selection, o);
    FAIL() << "NaN in training features must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("column 'f2'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing value(s)"), std::string::npos);
    // The first training row (by row_id) among the 50 missing ones is named.
    const auto train = split_indices(200, o).train;
    const int64_t first = train.masked_select(train < 50).min().item<int64_t>();
    EXPECT_NE(std::string(e.what()).find("the first in row_id " + std::to_string(first) + " "), std::string::npos)
        << e.what();
  }
  o.nan_policy = NanPolicy::drop_rows;
  const auto dropped = prepare(table, selection, o);
  EXPECT_EQ(dropped.train.size() + dropped.val.size() + dropped.test.size(), 150);
  EXPECT_FALSE(torch::isnan(dropped.train.x).any().item<bool>());
  o.nan_policy = NanPolicy::fill_mean;
  const auto filled = prepare(table, selection, o);
  EXPECT_EQ(filled.train.size() + filled.val.size() + filled.test.size(), 200);
  EXPECT_FALSE(torch::isnan(filled.train.x).any().item<bool>());
}

TEST(Prepare, UnknownColumnsAreInputErrorsWithSuggestions) {
  auto table = small_table(50);
  ColumnSelection selection;
  selection.targets = {"target_c"};
  try {
    prepare(table, selection, SplitOptions{});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("data.targets: column 'target_c'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(safetrain::parse_enum<NanPolicy>("sometimes"));  // the config refuses it by key (config tests)
}

TEST(Split, EveryRowLandsInExactlyOneSplitForManySizes) {
  // Regression: each fraction was rounded on its own (4993 rows -> 3994/499/499, 303 -> 242/30/30).
  SplitOptions o;
  for (int64_t rows = 1; rows <= 5000; rows += (rows < 400 ? 1 : 97)) {
    const auto s = split_indices(rows, o);
    EXPECT_EQ(s.train.size(0) + s.val.size(0) + s.test.size(0), rows) << rows;
  }
  const auto counts = split_counts(4993, o);
  EXPECT_EQ(counts[0] + counts[1] + counts[2], 4993);
  EXPECT_EQ(counts[0], 3995);
  SplitOptions partial;
  partial.train_fraction = 0.5;
  partial.val_fraction = 0.2;
  partial.test_fraction = 0.1;
  const auto p = split_counts(303, partial);
  EXPECT_EQ(p[0] + p[1] + p[2], 242);  // round(0.8 x 303): the rest is left out on purpose
}

TEST(Prepare, AnUnchosenTargetLikeColumnIsNeverAFeature) {
  // Regression: `data.targets: [target_a]` trained on target_b as an input (R² 0.83 instead of 0.16).
  auto table = small_table(100);
  ColumnSelection selection;
  selection.targets = {"target_a"};
  const auto p = prepare(table, selection, SplitOptions{});
  EXPECT_EQ(p.feature_names, (std::vector<std::string>{"f1", "f2"}));
  selection.features = {"f1", "target_b"};  // listed explicitly: used
  EXPECT_EQ(prepare(table, selection, SplitOptions{}).feature_names, selection.features);
}

TEST(Prepare, AMissingCellInAValidationOrTestRowIsRefusedToo) {
  // Regression: nan_policy only looked at training rows; one NA in a validation row made every val_loss NaN.
  auto table = small_table(200);
  SplitOptions o;
  const auto split = split_indices(200, o);
  table.values[split.val[0].item<int64_t>()][0] = NAN;
  ColumnSelection selection;
  selection.targets = {"target_a"};
  try {
    prepare(table, selection, o);
    FAIL() << "a missing validation cell must be refused under nan_policy: error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("validation rows"), std::string::npos) << e.what();
  }
  o.nan_policy = NanPolicy::drop_rows;
  const auto dropped = prepare(table, selection, o);
  EXPECT_FALSE(torch::isnan(dropped.val.x).any().item<bool>());
}

TEST(Split, FractionsAreValidated) {
  SplitOptions o;
  o.train_fraction = 0.9;
  o.val_fraction = 0.2;
  EXPECT_THROW(split_indices(100, o), InputError);
  o.val_fraction = -0.1;
  EXPECT_THROW(split_indices(100, o), InputError);
}

TEST(Prepare, RefusedNanNamesColumnAndCountOfTheSyntheticSparseColumns) {
  SyntheticOptions s;
  s.rows = 300;
  s.descriptor_columns = 8;
  const auto table = make_synthetic_arm(s);
  ColumnSelection selection;
  selection.targets = synthetic_target_names();
  try {
    prepare(table, selection, SplitOptions{});
    FAIL() << "the synthetic arm's mostly-missing columns must be refused under nan_policy refuse";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("column 'desc_sparse_"), std::string::npos) << message;
    EXPECT_NE(message.find("missing value(s) in 240 training rows"), std::string::npos) << message;
    EXPECT_EQ(message.rfind(table.source + ": ", 0), 0u) << "the table is named first: " << message;
    EXPECT_NE(message.find("the first in row_id "), std::string::npos) << message;
  }
  SplitOptions fill;
  fill.nan_policy = NanPolicy::fill_mean;
  const auto p = prepare(table, selection, fill);
  EXPECT_EQ(p.train.size(), 240);
  EXPECT_FALSE(torch::isnan(p.train.x).any().item<bool>());
}
