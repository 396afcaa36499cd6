#include <gtest/gtest.h>

#include "known_tables.hpp"
#include "passes.hpp"

using namespace safetrain::data::descriptors;

namespace {
std::vector<std::string> names_of(const safetrain::data::TableSource& source, const std::vector<int64_t>& indices) {
  std::vector<std::string> out;
  for (const auto i : indices) out.push_back(source.columns()[static_cast<size_t>(i)]);
  return out;
}
}  // namespace

TEST(FilterPass, DropsConstantMostlyMissingAndLaterDuplicates) {
  auto source = known_tables::redundant_table(400);
  const auto stats = compute_stats(source);
  std::vector<ColumnDecision> decisions;
  const auto kept = filter_columns(source, stats, {0, 1, 2, 3, 4, 5, 6}, {}, DescriptorOptions{}, decisions);
  EXPECT_EQ(names_of(source, kept), (std::vector<std::string>{"x", "x_cubed", "x_squared", "other"}));
  ASSERT_EQ(decisions.size(), 3u);
  // Name order: const, sparse, then the duplicates found in one more read.
  EXPECT_EQ(decisions[0].column, "const");
  EXPECT_NE(decisions[0].reason.find("constant"), std::string::npos);
  EXPECT_EQ(decisions[1].column, "sparse");
  EXPECT_NE(decisions[1].reason.find("missing 90.0%"), std::string::npos);
  EXPECT_EQ(decisions[2].column, "x_dup");
  EXPECT_EQ(decisions[2].partner, "x");  // of identical columns the first by name is kept
}

TEST(FilterPass, HashCollisionIsVerifiedAndProtectedColumnsStay) {
  // Equal content hash is only a candidate: a column equal except in one cell is not a duplicate.
  auto values = torch::randn({50, 3});
  values.select(1, 1).copy_(values.select(1, 0));
  values[49][1] = 123.0f;
  values.select(1, 2).fill_(1.0f);
  safetrain::data::TensorTableSource source({"a", "almost_a", "flat"}, values, 16);
  auto stats = compute_stats(source);
  stats[1].hash = stats[0].hash;  // force the collision
  std::vector<ColumnDecision> decisions;
  const auto kept = filter_columns(source, stats, {0, 1, 2}, {2}, DescriptorOptions{}, decisions);
  EXPECT_EQ(names_of(source, kept), (std::vector<std::string>{"a", "almost_a", "flat"}));
  EXPECT_TRUE(decisions.empty());
}

TEST(FilterPass, AllMissingColumnIsDroppedWithItsOwnReason) {
  auto values = torch::randn({20, 2});
  values.select(1, 1).fill_(NAN);
  safetrain::data::TensorTableSource source({"a", "empty"}, values, 8);
  DescriptorOptions o;
  o.max_missing_fraction = 1.0;  // would let it through
  std::vector<ColumnDecision> decisions;
  const auto kept = filter_columns(source, compute_stats(source), {0, 1}, {}, o, decisions);
  EXPECT_EQ(kept, (std::vector<int64_t>{0}));
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].reason, "every cell is missing");
}

TEST(FilterPass, LoadedColumnsOwnTheirStorage) {
  auto source = known_tables::redundant_table(300, 64);
  const auto loaded = load_columns(source, {0, 6});
  ASSERT_EQ(loaded.sizes(), (std::vector<int64_t>{2, 300}));
  EXPECT_EQ(loaded.storage().nbytes(), static_cast<size_t>(loaded.numel() * loaded.element_size()));
}

TEST(FilterPass, LoadedColumnsAreTheSourceColumnsInTheOrderAskedForWithOrWithoutARowCount) {
  // 150 columns (tiles of 64 and a part tile), 301 rows in 7 batches of 50 and a last one of 1.
  const auto values = torch::randn({301, 150});
  std::vector<std::string> names;
  for (int c = 0; c < 150; ++c) names.push_back("c" + std::to_string(c));
  safetrain::data::TensorTableSource source(names, values, 50);
  std::vector<int64_t> asked;
  for (int64_t c = 149; c >= 0; c -= 2) asked.push_back(c);  // 75 columns, last first
  const auto expected = values.t().index_select(0, torch::tensor(asked));
  EXPECT_TRUE(torch::equal(load_columns(source, asked, 301), expected));
  EXPECT_TRUE(torch::equal(load_columns(source, asked), expected));
  EXPECT_TRUE(torch::equal(load_columns(source, {7}, 301), values.t().narrow(0, 7, 1)));
}
