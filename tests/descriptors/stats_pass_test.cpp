#include <gtest/gtest.h>

#include "known_tables.hpp"
#include "passes.hpp"

using namespace safetrain::data::descriptors;

TEST(StatsPass, StreamingWelfordMatchesDirectComputationAcrossBatches) {
  torch::manual_seed(2);
  const auto values = torch::randn({1001, 3}) * torch::tensor({1.0f, 10.0f, 0.1f}) + 5;
  values[7][1] = NAN;
  safetrain::data::TensorTableSource source({"a", "b", "c"}, values, 100);  // 11 batches, the last one short
  const auto stats = compute_stats(source);
  ASSERT_EQ(stats.size(), 3u);
  for (int64_t c = 0; c < 3; ++c) {
    const auto column = values.select(1, c);
    const auto present = column.masked_select(torch::isnan(column).logical_not()).to(torch::kDouble);
    const auto& s = stats[static_cast<size_t>(c)];
    EXPECT_EQ(s.count, present.numel());
    EXPECT_NEAR(s.mean, present.mean().item<double>(), 1e-6);
    EXPECT_NEAR(s.variance(), present.var().item<double>(), 1e-6 * present.var().item<double>());
    EXPECT_DOUBLE_EQ(s.min, present.min().item<double>());
    EXPECT_DOUBLE_EQ(s.max, present.max().item<double>());
  }
  EXPECT_EQ(stats[1].missing, 1);
  EXPECT_NEAR(stats[1].missing_fraction(), 1.0 / 1001, 1e-12);
}

TEST(StatsPass, ContentHashMatchesForDuplicatesOnly) {
  auto source = known_tables::redundant_table(500);
  const auto stats = compute_stats(source);
  EXPECT_EQ(stats[0].hash, stats[1].hash);  // x, x_dup
  EXPECT_NE(stats[0].hash, stats[2].hash);
  EXPECT_EQ(stats[4].missing, 450);
  EXPECT_DOUBLE_EQ(stats[3].variance(), 0.0);
}

TEST(StatsPass, FiguresAreTheSameBitForBitOnOneAndFourThreads) {
  torch::manual_seed(5);
  auto values = torch::randn({700, 300}) * 3 + 1;
  values.index_put_({torch::rand({700, 300}) < 0.05}, NAN);
  std::vector<std::string> names;
  for (int c = 0; c < 300; ++c) names.push_back("d" + std::to_string(c));
  const auto stats_on = [&](int threads) {
    const int before = at::get_num_threads();
    at::set_num_threads(threads);
    safetrain::data::TensorTableSource source(names, values, 128);
    auto stats = compute_stats(source);
    at::set_num_threads(before);
    return stats;
  };
  const auto one = stats_on(1), four = stats_on(4);
  ASSERT_EQ(one.size(), four.size());
  for (size_t c = 0; c < one.size(); ++c) {
    EXPECT_EQ(one[c].hash, four[c].hash) << c;
    EXPECT_EQ(one[c].count, four[c].count) << c;
    EXPECT_EQ(one[c].missing, four[c].missing) << c;
    EXPECT_EQ(one[c].mean, four[c].mean) << c;  // exact: each column sums its cells in row order
    EXPECT_EQ(one[c].m2, four[c].m2) << c;
    EXPECT_EQ(one[c].min, four[c].min) << c;
    EXPECT_EQ(one[c].max, four[c].max) << c;
  }
  EXPECT_GT(four[17].missing, 0);
}
