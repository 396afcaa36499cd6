// Issue 26 item 5: HSIC/RDC "redundant" must mean predictable. Count columns that share a few rare rows
// score ~1 without either predicting the other: kept. A column that is a (non-monotone) function of another
// is still dropped, with the figures that decided it.
#include <gtest/gtest.h>

#include <array>
#include <cmath>

#include "known_tables.hpp"
#include "passes.hpp"
#include "predictability.hpp"

using namespace safetrain::data::descriptors;

namespace {

// The crosstab of the issue (ChEMBL): (carbocycles, heterocycles) x rows, the two (0, 4) rows the rare cell,
// repeated `copies` times and shuffled; plus x, x^2 / 4 (Spearman ~0 with x: only HSIC/RDC see it; the smaller
// variance puts x first, so x is the kept partner) and noise.
std::pair<std::vector<std::string>, torch::Tensor> planted_table(int copies) {
  const std::vector<std::array<int, 3>> cells = {{2, 2, 781}, {1, 3, 162}, {1, 2, 56}, {3, 1, 7},
                                                 {2, 3, 6},   {2, 1, 3},   {0, 4, 2}};
  std::vector<float> carbo, hetero;
  for (int c = 0; c < copies; ++c) {
    for (const auto& cell : cells) {
      for (int i = 0; i < cell[2]; ++i) carbo.push_back(static_cast<float>(cell[0])), hetero.push_back(static_cast<float>(cell[1]));
    }
  }
  const auto rows = static_cast<int64_t>(carbo.size());
  torch::manual_seed(7);
  const auto order = torch::randperm(rows);
  const auto x = torch::rand({rows}) * 4 - 2;
  const auto values = torch::stack({torch::tensor(carbo).index_select(0, order), torch::tensor(hetero).index_select(0, order),
                                    x, 0.25 * x * x + 0.01 * torch::randn({rows}), torch::randn({rows})},
                                   1);
  return {{"NumAromaticCarbocycles", "NumAromaticHeterocycles", "x", "x_squared", "noise"}, values};
}

DescriptorOptions kernel_only(bool hsic, bool rdc) {
  DescriptorOptions o;
  o.spearman = false;  // the kernel passes alone decide here
  o.hsic = hsic;
  o.rdc = rdc;
  o.rdc_threshold = 0.5;  // low: the score alone would call the count pair redundant
  o.hsic_threshold = 0.2;
  return o;
}

const nlohmann::json& pass_entry(const PipelineResult& r, int pass) {
  for (const auto& p : r.report["passes"]) {
    if (p["pass"] == pass) return p;
  }
  throw std::runtime_error("no pass " + std::to_string(pass));
}

}  // namespace

TEST(Predictability, BinnedFitExplainsAFunctionNotARareCoincidence) {
  const int64_t m = 512;
  torch::manual_seed(3);
  const auto x = (torch::rand({m}) * 4 - 2).contiguous();
  const auto square = (x * x).contiguous();
  const auto noise = torch::randn({m}).contiguous();
  EXPECT_GT(binned_fit(x.data_ptr<float>(), square.data_ptr<float>(), m).adjusted_r2, 0.98);
  EXPECT_LT(binned_fit(x.data_ptr<float>(), noise.data_ptr<float>(), m).adjusted_r2, 0.2);
  // A partner with a distinct value per row does not trivially "explain" noise: it is cut into <= 32 bins.
  const auto fit = binned_fit(noise.data_ptr<float>(), x.data_ptr<float>(), m);
  EXPECT_LE(fit.bins, 32);
  EXPECT_LT(fit.adjusted_r2, 0.2);
  // A constant column on these rows: no verdict.
  const auto constant = torch::full({m}, 2.0f);
  EXPECT_TRUE(std::isnan(binned_fit(x.data_ptr<float>(), constant.data_ptr<float>(), m).adjusted_r2));
}

TEST(Predictability, CountColumnsSharingRareRowsAreKept) {
  for (const bool hsic : {true, false}) {
    auto [names, values] = planted_table(1);
    safetrain::data::TensorTableSource source(names, values, 256);
    const auto r = run_pipeline(source, kernel_only(hsic, !hsic));
    const int pass = hsic ? 3 : 4;
    EXPECT_TRUE(known_tables::contains(r.kept_columns, "NumAromaticCarbocycles"));
    EXPECT_TRUE(known_tables::contains(r.kept_columns, "NumAromaticHeterocycles"))
        << known_tables::reason_for(r, "NumAromaticHeterocycles");
    // The score alone called them redundant (so this failed before); the predictability test refused it.
    bool refused = false;
    for (const auto& f : pass_entry(r, pass)["predictability"]["refused"]) {
      const auto pair = f["column"].get<std::string>() + "|" + f["partner"].get<std::string>();
      refused = refused || pair.find("Aromatic") != std::string::npos;
    }
    EXPECT_TRUE(refused) << pass_entry(r, pass)["predictability"].dump(1);
  }
}

TEST(Predictability, ATrulyRedundantPairIsStillDroppedWithItsFigures) {
  for (const bool hsic : {true, false}) {
    auto [names, values] = planted_table(1);
    safetrain::data::TensorTableSource source(names, values, 256);
    const auto r = run_pipeline(source, kernel_only(hsic, !hsic));
    const int pass = hsic ? 3 : 4;
    // x^2 is a function of x (not the reverse): x^2 goes, standing for nothing x does not carry.
    EXPECT_TRUE(known_tables::contains(r.kept_columns, "x"));
    EXPECT_FALSE(known_tables::contains(r.kept_columns, "x_squared")) << known_tables::reason_for(r, "x_squared");
    EXPECT_NE(known_tables::reason_for(r, "x_squared").find("adjusted R2"), std::string::npos);
    const auto& p = pass_entry(r, pass)["predictability"];
    ASSERT_EQ(p["dropped"].size(), 1u) << p.dump(1);
    EXPECT_EQ(p["dropped"][0]["column"], "x_squared");
    EXPECT_GE(p["dropped"][0]["adjusted_r2_sample"].get<double>(), kMinExplained);
    EXPECT_GE(p["dropped"][0]["adjusted_r2_holdout"].get<double>(), kMinExplained);
    EXPECT_EQ(p["second_sample"], "rows outside the pass sample");  // 1017 rows, a 512-row sample
    EXPECT_GE(p["second_sample_rows"].get<int64_t>(), 128);
  }
}

TEST(Predictability, SmallTablesSplitTheSampleIntoTwoHalves) {
  auto [names, values] = planted_table(1);
  const auto few = values.narrow(0, 0, 300).clone();
  const auto samples = disjoint_samples(few.t().contiguous(), 512, 1);
  EXPECT_FALSE(samples.holdout.defined());  // every row is in the sample
  const PredictabilityCheck check(samples.sample, samples.holdout, 1);
  EXPECT_EQ(check.holdout_kind(), "two disjoint random halves of the pass sample");
  EXPECT_EQ(check.holdout_rows(), 300);
  EXPECT_TRUE(check(3, 2).predictable);   // x^2 from x
  EXPECT_FALSE(check(2, 3).predictable);  // x from x^2: the sign is lost
}

TEST(Predictability, TheSecondSampleIsDisjointFromTheFirst) {
  // Row r holds the value r in every column: the two samples' values are their row numbers.
  const int64_t n = 2000;
  const auto rows = torch::arange(n, torch::kFloat);
  const auto samples = disjoint_samples(torch::stack({rows, rows}), 512, 5);
  ASSERT_TRUE(samples.holdout.defined());
  EXPECT_EQ(samples.sample.size(1), 512);
  EXPECT_EQ(samples.holdout.size(1), 512);
  const auto first = samples.sample[0], second = samples.holdout[0];
  EXPECT_EQ(torch::isin(second, first).sum().item<int64_t>(), 0);
  // The first sample is the one the passes always drew.
  EXPECT_TRUE(torch::equal(samples.sample, stratified_sample(torch::stack({rows, rows}), 512, 5)));
}
