#include <gtest/gtest.h>

#include <cmath>

#include "passes.hpp"

using namespace safetrain::data::descriptors;

namespace {
torch::Tensor symmetric_square_sample() {
  torch::manual_seed(5);
  const auto x = torch::rand({400}) * 4 - 2;
  return torch::stack({x, x * x, torch::randn({400})});
}
}  // namespace

TEST(Hsic, CatchesTheSquareThatSpearmanMisses) {
  const auto sample = symmetric_square_sample();
  EXPECT_LT(std::abs(spearman_matrix(sample)[0][1].item<double>()), 0.2);
  const auto hsic = hsic_matrix(sample);
  EXPECT_GT(hsic[0][1].item<double>(), 3 * hsic[0][2].item<double>());
  EXPECT_NEAR(hsic[0][0].item<double>(), 1.0, 1e-5);
  EXPECT_TRUE(torch::allclose(hsic, hsic.t()));
}

TEST(Hsic, BlockedEdgesUnderASmallBudgetEqualTheDenseScores) {
  const auto sample = symmetric_square_sample();
  const auto dense = hsic_matrix(sample);
  WorkingSet tiny(int64_t{64} << 10);  // forces feature blocks of a column or two
  ScreenStats stats;
  const auto edges = hsic_edges(sample, 0.0, {true, true, true}, tiny, stats);
  ASSERT_EQ(edges.size(), 3u);
  for (const auto& e : edges) EXPECT_NEAR(e.score, dense[e.a][e.b].item<double>(), 1e-6);
  EXPECT_EQ(stats.pairs, 3);
}

TEST(Rdc, HighForAFunctionLowerForIndependentColumns) {
  const auto sample = symmetric_square_sample();
  const auto rdc = rdc_matrix(sample, 20, 1.0 / 6.0, 7);
  EXPECT_GT(rdc[0][1].item<double>(), 0.9);
  EXPECT_LT(rdc[0][2].item<double>(), rdc[0][1].item<double>());
  EXPECT_TRUE(torch::allclose(rdc_matrix(sample, 20, 1.0 / 6.0, 7), rdc));  // seeded
}

TEST(PairPruning, BestColumnFirstAndEveryDropNamesAKeptColumn) {
  auto score = torch::eye(3, torch::kDouble);
  score[0][1] = score[1][0] = 0.95;
  score[1][2] = score[2][1] = 0.99;
  Informativeness info{{0.2, 0.5, 0.1}, {0, 0, 0}, {}, {"a", "b", "c"}};
  std::vector<ColumnDecision> decisions;
  const auto kept = drop_redundant_pairs(score, 0.9, 3, "HSIC", {"a", "b", "c"}, {false, false, false}, info, decisions);
  // b correlates most with the target and stays; a and c each go for it.
  EXPECT_EQ(kept, (std::vector<int64_t>{1}));
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[0].column, "a");
  EXPECT_EQ(decisions[0].partner, "b");
  EXPECT_EQ(decisions[1].column, "c");
  EXPECT_EQ(decisions[1].partner, "b");
}
