#include <gtest/gtest.h>

#include <cmath>

#include "passes.hpp"

using namespace safetrain::data::descriptors;

namespace {
Informativeness neutral(size_t k) { return {std::vector<double>(k, 0.0), std::vector<double>(k, 0.0), {}, {}}; }
}  // namespace

TEST(SpearmanPass, MonotoneTransformIsGroupedWithItsSourceAndTheBetterOneStays) {
  torch::manual_seed(11);
  const auto x = torch::randn({500});
  const auto y = torch::randn({500});
  const auto values = torch::stack({torch::exp(x), y, x, x.pow(3)});
  const std::vector<std::string> names{"exp_x", "y", "x", "x_cubed"};
  auto info = neutral(4);
  info.target_rho = {0.1, 0.0, 0.5, 0.1};  // x is the most target-correlated member
  std::vector<ColumnDecision> decisions;
  DescriptorOptions o;
  const auto r = spearman_pass(spearman_matrix(values), names, {false, false, false, false}, info, o, decisions);
  EXPECT_EQ(r.kept, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.community[0], r.community[2]);
  EXPECT_EQ(r.community[3], r.community[2]);
  EXPECT_NE(r.community[1], r.community[2]);
  EXPECT_EQ(r.representative[0], 2);
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[0].partner, "x");
}

TEST(SpearmanPass, SweepLeavesNoKeptPairAtOrAboveTheThreshold) {
  // Chains of overlapping correlations: communities alone may keep correlated neighbours.
  torch::manual_seed(12);
  const int64_t k = 30, n = 400;
  auto values = torch::empty({k, n});
  auto walk = torch::randn({n});
  for (int64_t i = 0; i < k; ++i) {
    walk = walk + 0.25 * torch::randn({n});
    values[i].copy_(walk);
  }
  std::vector<std::string> names;
  for (int64_t i = 0; i < k; ++i) names.push_back("c" + std::to_string(i));
  DescriptorOptions o;
  o.spearman_threshold = 0.9;
  std::vector<ColumnDecision> decisions;
  const auto rho = spearman_matrix(values);
  const auto r = spearman_pass(rho, names, std::vector<bool>(k, false), neutral(k), o, decisions);
  EXPECT_LT(r.kept.size(), static_cast<size_t>(k));
  for (size_t a = 0; a < r.kept.size(); ++a) {
    for (size_t b = a + 1; b < r.kept.size(); ++b) {
      EXPECT_LT(std::abs(rho[r.kept[a]][r.kept[b]].item<double>()), o.spearman_threshold);
    }
  }
  EXPECT_EQ(decisions.size() + r.kept.size(), static_cast<size_t>(k));
}

TEST(SpearmanPass, ProtectedColumnsSurviveTheirCommunity) {
  torch::manual_seed(13);
  const auto x = torch::randn({200});
  const auto values = torch::stack({x, x * 2 + 1, x.pow(3)});
  std::vector<ColumnDecision> decisions;
  const auto r = spearman_pass(spearman_matrix(values), {"a", "b", "c"}, {false, true, true}, neutral(3),
                               DescriptorOptions{}, decisions);
  EXPECT_EQ(r.kept, (std::vector<int64_t>{1, 2}));
}

TEST(Leiden, SeparatesTwoBlocksAndIsDeterministicForASeed) {
  auto rho = torch::eye(6, torch::kDouble);
  for (int64_t i = 0; i < 3; ++i) {
    for (int64_t j = 0; j < 3; ++j) {
      rho[i][j] = i == j ? 1.0 : 0.97;
      rho[i + 3][j + 3] = i == j ? 1.0 : 0.98;
    }
  }
  const auto m = leiden_membership(rho, 0.95, 1.0, 42);
  EXPECT_EQ(m[0], m[1]);
  EXPECT_EQ(m[1], m[2]);
  EXPECT_EQ(m[3], m[4]);
  EXPECT_NE(m[0], m[3]);
  EXPECT_EQ(leiden_membership(rho, 0.95, 1.0, 42), m);
}

TEST(Leiden, TerminatesOnManyNearThresholdEdges) {
  // 300 columns in groups of 10 around the threshold: "iterate until stable" used to cycle here.
  torch::manual_seed(14);
  const int64_t n = 2000;
  const auto factors = torch::randn({30, n});
  const auto values = factors.repeat_interleave(10, 0) + 0.3 * torch::randn({300, n});
  const auto rho = spearman_matrix(values);
  const auto m = leiden_membership(rho, 0.9, 1.0, 42);
  ASSERT_EQ(m.size(), 300u);
  EXPECT_EQ(m[0], m[1]);      // same factor
  EXPECT_NE(m[0], m[10]);     // different factors
}
