#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "passes.hpp"
#include "safetrain/common/error.hpp"

using namespace safetrain::data::descriptors;

namespace {

// Reference written independently of the library: per pair, the rows where both are present,
// average ranks by sorting, Pearson of the ranks (pandas' pairwise definition).
std::vector<double> reference_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
    for (size_t t = i; t < j; ++t) ranks[order[t]] = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    i = j;
  }
  return ranks;
}

double reference_spearman(const torch::Tensor& x, const torch::Tensor& y) {
  std::vector<double> a, b;
  for (int64_t i = 0; i < x.size(0); ++i) {
    const double xi = x[i].item<double>(), yi = y[i].item<double>();
    if (std::isnan(xi) || std::isnan(yi)) continue;
    a.push_back(xi);
    b.push_back(yi);
  }
  const auto ra = reference_ranks(a), rb = reference_ranks(b);
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / static_cast<double>(ra.size());
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / static_cast<double>(rb.size());
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

// Random integer data (many ties), correlated rows, and NaNs sprinkled in some rows.
torch::Tensor tied_data_with_gaps(int64_t k, int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  auto base = torch::randint(0, 6, {1, n}).to(torch::kFloat);
  auto data = (base + torch::randint(0, 4, {k, n}).to(torch::kFloat)).contiguous();
  for (int64_t row = 0; row < k; row += 2) {
    data[row].masked_fill_(torch::rand({n}) < 0.15, NAN);
  }
  return data;
}

}  // namespace

TEST(Ranks, TiesAreAveragedAndMissingCellsTakeTheMeanRank) {
  const auto values = torch::tensor({{10.f, 20.f, 20.f, 30.f, NAN}}, torch::kFloat);
  EXPECT_TRUE(torch::equal(average_ranks(values), torch::tensor({{1.f, 2.5f, 2.5f, 4.f, 2.5f}})));
}

TEST(Ranks, CountingAndRadixPathsMatchASortedReference) {
  torch::manual_seed(2);
  const auto small_integers = torch::randint(-5, 6, {500}).to(torch::kFloat);           // counting sort
  const auto wide_integers = torch::randint(0, 1 << 20, {500}).to(torch::kFloat) - 3e5;  // radix
  auto reals = torch::randn({500});
  reals[0] = 0.0f;
  reals[1] = -0.0f;  // equal to +0: one tie
  reals.narrow(0, 2, 10).fill_(1.25f);
  for (const auto& column : {small_integers, wide_integers, reals}) {
    std::vector<double> v(column.data_ptr<float>(), column.data_ptr<float>() + column.numel());
    const auto expected = reference_ranks(v);
    const auto got = average_ranks(column.unsqueeze(0))[0];
    for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(got[static_cast<int64_t>(i)].item<double>(), expected[i]) << i;
  }
}

TEST(Spearman, WithTiesEqualsPearsonOfAverageRanks) {
  torch::manual_seed(3);
  const auto data = torch::randint(0, 5, {4, 200}).to(torch::kFloat);
  const auto rho = spearman_matrix(data);
  auto r = average_ranks(data).to(torch::kDouble);
  r = r - r.mean(1, true);
  const auto direct = torch::mm(r, r.t()) / torch::outer(r.norm(2, 1), r.norm(2, 1));
  EXPECT_TRUE(torch::allclose(rho, direct, 1e-6, 1e-6));  // float32 product
}

TEST(Spearman, ChunkedProductEqualsUnchunked) {
  const auto data = tied_data_with_gaps(9, 300, 4);
  for (const auto policy : {NanPolicy::pairwise, NanPolicy::fill_mean, NanPolicy::drop_rows}) {
    const auto whole = spearman_matrix(data, policy, 1000);
    EXPECT_TRUE(torch::allclose(spearman_matrix(data, policy, 1), whole, 1e-6, 1e-6));
    EXPECT_TRUE(torch::allclose(spearman_matrix(data, policy, 4), whole, 1e-6, 1e-6));
  }
}

TEST(Spearman, PairwisePolicyMatchesDirectReferenceWithTiesAndNans) {
  const auto data = tied_data_with_gaps(7, 400, 5);
  const auto rho = spearman_matrix(data, NanPolicy::pairwise);
  for (int64_t i = 0; i < 7; ++i) {
    for (int64_t j = 0; j < 7; ++j) {
      EXPECT_NEAR(rho[i][j].item<double>(), reference_spearman(data[i], data[j]), 1e-6) << i << "," << j;
    }
  }
  // The cross form (features against targets) agrees with the square one.
  const auto cross = spearman_cross(data.narrow(0, 0, 5), data.narrow(0, 5, 2), NanPolicy::pairwise);
  EXPECT_TRUE(torch::allclose(cross, rho.narrow(0, 0, 5).narrow(1, 5, 2), 1e-6, 1e-6));
}

TEST(Spearman, GapColumnsAgainstCompleteOnesMatchTheReference) {
  // A column with a few gaps and one with many (60 % missing) against continuous, tied and constant
  // complete columns, both ways round.
  torch::manual_seed(11);
  const int64_t n = 3000;
  auto data = torch::randn({6, n});
  data[1] = torch::round(data[0] * 3 + torch::randn({n}));  // ties, correlated with 0
  data[2].fill_(4.0f);                                        // constant
  data[3] = data[0] + 0.5 * torch::randn({n});
  data[3].masked_fill_(torch::rand({n}) < 0.03, NAN);  // a few gaps
  data[4] = torch::round(data[1] / 2);
  data[4].masked_fill_(torch::rand({n}) < 0.6, NAN);  // mostly gaps
  const auto rho = spearman_matrix(data, NanPolicy::pairwise);
  for (const int64_t gap : {3, 4}) {
    for (int64_t j = 0; j < 6; ++j) {
      const double expected = j == 2 ? 0.0 : reference_spearman(data[gap], data[j]);
      EXPECT_NEAR(rho[gap][j].item<double>(), expected, 1e-5) << gap << "," << j;
      EXPECT_NEAR(rho[j][gap].item<double>(), expected, 1e-5) << j << "," << gap;
    }
  }
}

TEST(Spearman, DropRowsUsesOnlyCompleteObservations) {
  const auto data = tied_data_with_gaps(4, 300, 6);
  const auto complete = complete_observations(data);
  EXPECT_LT(complete.size(1), 300);
  EXPECT_FALSE(torch::isnan(complete).any().item<bool>());
  const auto rho = spearman_matrix(data, NanPolicy::drop_rows);
  EXPECT_NEAR(rho[0][1].item<double>(), reference_spearman(complete[0], complete[1]), 1e-6);
}

TEST(Spearman, MonotoneTransformHasRhoOneAndSymmetricSquareNearZero) {
  torch::manual_seed(7);
  const auto x = torch::rand({2000}) * 4 - 2;
  const auto rho = spearman_matrix(torch::stack({x, torch::exp(x), x * x}));
  EXPECT_NEAR(rho[0][1].item<double>(), 1.0, 1e-6);
  EXPECT_LT(std::abs(rho[0][2].item<double>()), 0.1);
}

TEST(Spearman, UnknownNanPolicyNamesTheKey) {
  try {
    parse_nan_policy("median");
    FAIL();
  } catch (const safetrain::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("descriptors.nan_policy"), std::string::npos);
  }
}

TEST(Spearman, PreferGpuFallsBackOrAgrees) {
  // Without CUDA this exercises the logged fallback; with it, the device product must agree.
  const auto data = tied_data_with_gaps(6, 250, 8);
  EXPECT_TRUE(torch::allclose(spearman_matrix(data, NanPolicy::pairwise, 2, true), spearman_matrix(data), 1e-6, 1e-6));
}
