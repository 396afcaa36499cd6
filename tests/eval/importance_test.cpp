#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "../support/scratch_dir.hpp"
#include "png_reader.hpp"
#include "safetrain/eval/importance.hpp"
#include "safetrain/eval/plots.hpp"

namespace fs = std::filesystem;
using namespace safetrain::eval;
using safetrain::testing_support::scratch_dir;

namespace {


// y = x @ w: a model whose dependence on each feature is known exactly.
struct LinearModel {
  torch::Tensor w;  // [F, T]
  torch::Tensor operator()(const torch::Tensor& x) const { return x.matmul(w); }
};

const FeatureImportance& find(const ImportanceResult& r, const std::string& name) {
  for (const auto& f : r.features) {
    if (f.feature == name) return f;
  }
  throw std::runtime_error("no feature " + name);
}

}  // namespace

TEST(PermutationImportance, IgnoredFeatureScoresZeroAndTheStrongestRanksFirst) {
  torch::manual_seed(3);
  const auto x = torch::randn({1500, 4});
  // Targets depend on a (strongly) and c (weakly); b and d are ignored by the model.
  const LinearModel model{torch::tensor({{3.0f, 0.0f}, {0.0f, 0.0f}, {0.0f, 0.5f}, {0.0f, 0.0f}})};
  const auto y = model(x) + 0.1 * torch::randn({1500, 2});
  const auto r = permutation_importance(model, x, y, {"a", "b", "c", "d"}, {});
  ASSERT_EQ(r.features.size(), 4u);
  EXPECT_EQ(r.features[0].feature, "a");
  EXPECT_EQ(r.features[1].feature, "c");
  EXPECT_NEAR(find(r, "b").mean, 0.0, 1e-9);
  EXPECT_NEAR(find(r, "b").std, 0.0, 1e-9);
  EXPECT_NEAR(find(r, "d").mean, 0.0, 1e-9);
  // Shuffling a standard-normal input with weight 3 adds about 2 * 9 / 2 targets = 9 to the mean MSE.
  EXPECT_NEAR(find(r, "a").mean, 9.0, 1.5);
  EXPECT_NEAR(find(r, "c").mean, 0.25, 0.08);
  EXPECT_GT(find(r, "a").std, 0.0);
  EXPECT_NEAR(r.baseline_mse, 0.01, 0.003);
  EXPECT_EQ(r.rows, 1500);
}

TEST(PermutationImportance, RowSampleAndBatchBoundTheWork) {
  torch::manual_seed(4);
  const auto x = torch::randn({10000, 5});
  const LinearModel model{torch::randn({5, 3})};
  const auto y = model(x);
  int64_t largest_seen = 0, total_seen = 0;
  const Predict counting = [&](const torch::Tensor& batch) {
    largest_seen = std::max(largest_seen, batch.size(0));
    total_seen += batch.size(0);
    return model(batch);
  };
  ImportanceOptions options;
  options.max_rows = 700;
  options.batch_rows = 128;
  options.repeats = 2;
  const auto r = permutation_importance(counting, x, y, {"f0", "f1", "f2", "f3", "f4"}, options);
  EXPECT_EQ(r.rows, 700);
  EXPECT_LE(largest_seen, 128);
  EXPECT_EQ(r.largest_batch_rows, largest_seen);
  EXPECT_EQ(total_seen, 700 * (1 + 5 * 2));  // baseline + one pass per feature and repeat, nothing more
  EXPECT_EQ(r.predicted_rows, total_seen);
  EXPECT_NEAR(r.baseline_mse, 0.0, 1e-10);

  // The same seed gives the same result; another seed another sample.
  const auto again = permutation_importance(counting, x, y, {"f0", "f1", "f2", "f3", "f4"}, options);
  for (size_t i = 0; i < r.features.size(); ++i) {
    EXPECT_EQ(again.features[i].feature, r.features[i].feature);
    EXPECT_DOUBLE_EQ(again.features[i].mean, r.features[i].mean);
  }
  options.seed = 99;
  const auto other = permutation_importance(counting, x, y, {"f0", "f1", "f2", "f3", "f4"}, options);
  EXPECT_NE(other.features[0].mean, r.features[0].mean);
}

TEST(PermutationImportance, RejectsBadInputs) {
  const LinearModel model{torch::ones({2, 1})};
  const auto x = torch::randn({10, 2});
  const auto y = torch::randn({10, 1});
  EXPECT_THROW(permutation_importance(model, x, y, {"only one"}), std::invalid_argument);
  EXPECT_THROW(permutation_importance(model, x, torch::randn({9, 1}), {"a", "b"}), std::invalid_argument);
  EXPECT_THROW(permutation_importance(model, torch::zeros({0, 2}), torch::zeros({0, 1}), {"a", "b"}),
               std::invalid_argument);
  ImportanceOptions zero_repeats;
  zero_repeats.repeats = 0;
  EXPECT_THROW(permutation_importance(model, x, y, {"a", "b"}, zero_repeats), std::invalid_argument);
  const Predict wrong_shape = [](const torch::Tensor& b) { return torch::zeros({b.size(0), 3}); };
  EXPECT_THROW(permutation_importance(wrong_shape, x, y, {"a", "b"}), std::invalid_argument);
}

TEST(PermutationImportance, WritesSortedCsvAndABarPlot) {
  const auto dir = scratch_dir("importance");
  ImportanceResult r;
  r.rows = 500;
  r.repeats = 3;
  for (int i = 0; i < 30; ++i) {
    r.features.push_back({"descriptor, #" + std::to_string(i), 2.0 / (i + 1) - 0.05, 0.02});
  }
  write_importance_csv(r, dir / "importance.csv");
  std::ifstream in(dir / "importance.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "feature,importance_mean,importance_std");
  std::getline(in, line);
  EXPECT_EQ(line, "\"descriptor, #0\",1.95,0.02");
  int rows = 1;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 30);

  write_importance_plot(r, dir / "importance.png", 12, "MSE, standardised targets");
  const auto image = png_test::read_png(dir / "importance.png");
  EXPECT_EQ(image.width, kCurveWidthPx);
  size_t blue = 0;
  for (int yy = 0; yy < image.height; ++yy) {
    for (int xx = 0; xx < image.width; ++xx) {
      const unsigned char* p = image.at(xx, yy);
      if (p[2] > p[0] + 60 && p[2] > p[1] + 30) ++blue;
    }
  }
  EXPECT_GT(blue, 2000u) << "bars drawn";
  EXPECT_THROW(write_importance_plot(ImportanceResult{}, dir / "none.png"), std::invalid_argument);
  EXPECT_FALSE(fs::exists(dir / "none.png"));
}

// Regression (issue 26 item 13): with small importances PLplot wrote its own "(x10^-3)" exponent at the
// right end of the axis, where it ran into the axis label; the axis now prints plain decimals and the
// strip right of the axes stays empty.
TEST(PermutationImportance, SmallImportancesGetNoExponentBesideTheAxisLabel) {
  const auto dir = scratch_dir("importance_small");
  ImportanceResult r;
  r.rows = 500;
  r.repeats = 3;
  for (int i = 0; i < 8; ++i) r.features.push_back({"f" + std::to_string(i), 0.004 / (i + 1), 0.0002});
  write_importance_plot(r, dir / "importance.png", 20, "MSE, standardised targets");
  const auto image = png_test::read_png(dir / "importance.png");
  size_t dark = 0;
  for (int yy = image.height - 60; yy < image.height; ++yy) {
    for (int xx = image.width * 98 / 100; xx < image.width; ++xx) {
      const unsigned char* p = image.at(xx, yy);
      if (p[0] < 100 && p[1] < 100 && p[2] < 100) ++dark;
    }
  }
  EXPECT_EQ(dark, 0u) << "text right of the axes, below them: " << (dir / "importance.png");
}
