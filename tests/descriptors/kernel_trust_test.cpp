// Issue 15 item 8 and issue 18 item 2: sparse columns are never judged redundant by HSIC or RDC,
// and the low-rank HSIC takes the same decisions as the exact one on tables where that is affordable.
#include <gtest/gtest.h>

#include <set>

#include "exact_hsic.hpp"
#include "known_tables.hpp"
#include "passes.hpp"

using namespace safetrain::data::descriptors;

namespace {

// Rare fragment counts: `nonzero` rows of 1-3 among `rows`, at random rows, one column each.
torch::Tensor sparse_counts(int64_t columns, int64_t rows, int64_t nonzero, uint64_t seed) {
  torch::manual_seed(seed);
  auto values = torch::zeros({columns, rows});
  for (int64_t c = 0; c < columns; ++c) {
    const auto at = torch::randperm(rows).narrow(0, 0, nonzero);
    values[c].index_put_({at}, torch::randint(1, 4, {nonzero}).to(torch::kFloat));
  }
  return values;
}

std::set<std::pair<int64_t, int64_t>> pairs_at_or_above(const torch::Tensor& score, double threshold) {
  std::set<std::pair<int64_t, int64_t>> out;
  for (const auto& e : edges_at_or_above(score, threshold)) out.insert({e.a, e.b});
  return out;
}

}  // namespace

TEST(KernelTrust, RdcOfTwoConstantSampleColumnsIsZeroNotOne) {
  torch::manual_seed(2);
  auto sample = torch::zeros({3, 500});
  sample[2].copy_(torch::randn({500}));
  const auto rdc = rdc_matrix(sample, 20, 1.0 / 6.0, 7);
  EXPECT_EQ(rdc[0][1].item<double>(), 0.0);  // was 1.000: the CCA of two zero feature matrices
  EXPECT_LT(rdc[0][2].item<double>(), 0.5);
}

TEST(KernelTrust, ThinColumnsAreNotJudged) {
  auto sample = torch::randn({3, 400});
  sample[0].zero_();
  sample[1].zero_();
  sample[1].narrow(0, 0, 4).fill_(2.0);
  const auto reasons = unjudgeable_columns(sample);
  EXPECT_NE(reasons[0].find("constant"), std::string::npos);
  EXPECT_NE(reasons[1].find("only 4"), std::string::npos);
  EXPECT_EQ(reasons[2], "");
}

TEST(KernelTrust, StratifiedSampleKeepsTheRowsOfRareColumns) {
  const auto values = sparse_counts(6, 12000, 24, 3);
  const auto sample = stratified_sample(values, 1000, 42);
  ASSERT_EQ(sample.size(1), 1000);
  for (int64_t c = 0; c < 6; ++c) EXPECT_EQ((sample[c] != 0).sum().item<int64_t>(), 24) << c;
}

TEST(KernelTrust, PlantedSparseCountColumnsSurviveThePipeline) {
  // 12,000 rows: 8 fragment counts with 15-40 non-zero rows each, beside 4 dense columns and a target.
  const int64_t rows = 12000;
  std::vector<torch::Tensor> columns;
  std::vector<std::string> names;
  for (int64_t c = 0; c < 8; ++c) {
    columns.push_back(sparse_counts(1, rows, 15 + 3 * c, 100 + static_cast<uint64_t>(c))[0]);
    names.push_back("fragment_" + std::to_string(c));
  }
  torch::manual_seed(9);
  for (int64_t c = 0; c < 4; ++c) {
    columns.push_back(torch::randn({rows}));
    names.push_back("dense_" + std::to_string(c));
  }
  columns.push_back(columns[8] + 0.5 * torch::randn({rows}));
  names.push_back("target");
  safetrain::data::TensorTableSource source(names, torch::stack(columns, 1), 4096);
  DescriptorOptions o;
  o.targets = {"target"};
  const auto r = run_pipeline(source, o);
  for (const auto& name : names) {
    if (name == "target") continue;
    EXPECT_TRUE(known_tables::contains(r.kept_columns, name)) << known_tables::reason_for(r, name);
  }
}

TEST(KernelTrust, LowRankHsicTakesTheExactDecisions) {
  torch::manual_seed(17);
  const int64_t m = 400;
  const auto x = torch::rand({m}) * 4 - 2;
  std::vector<torch::Tensor> rows = {x, x * x, torch::sin(3 * x), x.abs(), torch::randn({m}), torch::exp(x)};
  const auto factor = torch::randn({m});
  for (const double noise : {0.05, 0.2, 0.5, 1.0, 2.0}) rows.push_back(factor + noise * torch::randn({m}));
  rows.push_back(torch::randint(0, 4, {m}).to(torch::kFloat));
  rows.push_back(torch::randint(0, 4, {m}).to(torch::kFloat) + rows.back());
  const auto sample = torch::stack(rows);
  const auto exact = exact_hsic::matrix(sample), approximate = hsic_matrix(sample);
  EXPECT_LT((exact - approximate).abs().max().item<double>(), 0.02);
  for (const double threshold : {0.25, 0.5, 0.7, 0.9}) {
    EXPECT_EQ(pairs_at_or_above(approximate, threshold), pairs_at_or_above(exact, threshold)) << threshold;
  }
  // The known table's sample: the square of x is caught at the pipeline test's threshold either way.
  auto source = known_tables::redundant_table(600);
  const auto table = load_columns(source, {0, 2, 5, 6});
  const auto s = stratified_sample(table, 600, 42);
  EXPECT_EQ(pairs_at_or_above(hsic_matrix(s), 0.25), pairs_at_or_above(exact_hsic::matrix(s), 0.25));
}
