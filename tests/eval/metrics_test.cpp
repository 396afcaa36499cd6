#include <gtest/gtest.h>

#include <cmath>

#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/streaming_metrics.hpp"

using safetrain::eval::OutputBuffer;
using safetrain::eval::StreamingMetrics;

namespace {

const std::vector<std::string> kNames{"x", "y", "z"};

// Direct double computation over the full matrices.
struct Direct {
  std::vector<double> mse, mae, r2;
};
Direct direct(const torch::Tensor& pred, const torch::Tensor& target) {
  const auto p = pred.to(torch::kDouble), y = target.to(torch::kDouble);
  Direct d;
  for (int64_t j = 0; j < p.size(1); ++j) {
    const auto e = p.select(1, j) - y.select(1, j);
    const auto yc = y.select(1, j) - y.select(1, j).mean();
    d.mse.push_back(e.pow(2).mean().item<double>());
    d.mae.push_back(e.abs().mean().item<double>());
    d.r2.push_back(1.0 - e.pow(2).sum().item<double>() / yc.pow(2).sum().item<double>());
  }
  return d;
}

}  // namespace

TEST(StreamingMetrics, MatchesDirectComputationOnRandomData) {
  torch::manual_seed(1);
  const auto target = torch::randn({1000, 3}, torch::kDouble);
  const auto pred = target + 0.3 * torch::randn({1000, 3}, torch::kDouble);
  StreamingMetrics m(kNames);
  for (int64_t start = 0; start < 1000; start += 64) {
    const int64_t len = std::min<int64_t>(64, 1000 - start);
    m.update(pred.narrow(0, start, len), target.narrow(0, start, len));
  }
  const Direct d = direct(pred, target);
  EXPECT_EQ(m.count(), 1000);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_NEAR(m.mse()[j], d.mse[j], 1e-12);
    EXPECT_NEAR(m.mae()[j], d.mae[j], 1e-12);
    EXPECT_NEAR(m.r2()[j], d.r2[j], 1e-12);
  }
  EXPECT_NEAR(m.loss(), torch::mse_loss(pred, target).item<double>(), 1e-12);
  const auto json = m.to_json();
  EXPECT_EQ(json["count"], 1000);
  EXPECT_NEAR(json["targets"]["y"]["r2"].get<double>(), d.r2[1], 1e-12);
}

TEST(StreamingMetrics, ManySmallUpdatesEqualOneBigUpdateWithLargeOffsets) {
  torch::manual_seed(2);
  // Values around 1e6 with unit spread: a naive sum-of-squares variance loses all digits in float.
  const auto target = 1e6 + torch::randn({4096, 3}, torch::kDouble);
  const auto pred = target + 0.1 * torch::randn({4096, 3}, torch::kDouble);
  StreamingMetrics one(kNames), many(kNames);
  one.update(pred, target);
  for (int64_t i = 0; i < 4096; i += 3) {
    const int64_t len = std::min<int64_t>(3, 4096 - i);
    many.update(pred.narrow(0, i, len), target.narrow(0, i, len));
  }
  const Direct d = direct(pred, target);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_NEAR(many.r2()[j], one.r2()[j], 1e-9);
    EXPECT_NEAR(many.r2()[j], d.r2[j], 1e-9);
    EXPECT_NEAR(many.mse()[j], one.mse()[j], 1e-12);
    EXPECT_NEAR(many.mae()[j], one.mae()[j], 1e-12);
  }
}

TEST(StreamingMetrics, AcceptsFloatInputsThatRequireGradAndOneDimensionalSingleTarget) {
  auto pred = torch::tensor({1.0f, 2.0f, 4.0f}).requires_grad_();
  StreamingMetrics m({"only"});
  m.update(pred * 1.0f, torch::tensor({1.0f, 2.0f, 3.0f}));
  EXPECT_EQ(m.count(), 3);
  EXPECT_NEAR(m.mse()[0], 1.0 / 3.0, 1e-9);
  EXPECT_NEAR(m.r2()[0], 1.0 - 1.0 / 2.0, 1e-9);
}

TEST(StreamingMetrics, ConstantTargetsAndResetAndShapeErrors) {
  StreamingMetrics m({"a"});
  EXPECT_TRUE(std::isnan(m.loss()));
  EXPECT_TRUE(m.to_json()["loss"].is_null());
  m.update(torch::full({5, 1}, 2.0), torch::full({5, 1}, 2.0));
  EXPECT_EQ(m.r2()[0], 1.0);
  m.update(torch::full({5, 1}, 3.0), torch::full({5, 1}, 2.0));
  EXPECT_EQ(m.r2()[0], 0.0);
  m.reset();
  EXPECT_EQ(m.count(), 0);
  EXPECT_THROW(m.update(torch::zeros({4, 2}), torch::zeros({4, 2})), std::invalid_argument);
  EXPECT_THROW(m.update(torch::zeros({4, 1}), torch::zeros({3, 1})), std::invalid_argument);
}

TEST(StreamingMetrics, MetricsWithBufferCapTenEqualMetricsWithNoCap) {
  // The trainer's validation loop in miniature: the buffer cap must not change any metric.
  torch::manual_seed(3);
  const auto target = torch::randn({2000, 3});
  const auto pred = target + 0.5 * torch::randn({2000, 3});
  auto run = [&](int64_t cap) {
    StreamingMetrics metrics(kNames);
    OutputBuffer buffer(cap, 3, 7);
    buffer.begin_epoch(0);
    for (int64_t i = 0; i < 2000; i += 32) {
      const int64_t len = std::min<int64_t>(32, 2000 - i);
      metrics.update(pred.narrow(0, i, len), target.narrow(0, i, len));
      buffer.add(pred.narrow(0, i, len), target.narrow(0, i, len), torch::arange(i, i + len));
    }
    EXPECT_EQ(buffer.size(), std::min<int64_t>(cap, 2000));
    return metrics.to_json();
  };
  EXPECT_EQ(run(10), run(2000));
  EXPECT_EQ(run(0), run(2000));
}

TEST(StreamingMetrics, AveragesAreInTheLossUnitsWhenTargetsHaveScales) {
  // Two targets in different units: the averaged loss and MAE divide each by its scale (the training std), so a
  // target in thousands does not drown the other; the per-target figures stay in their own units.
  const auto target = torch::tensor({{1.0, 1000.0}, {2.0, 3000.0}, {3.0, 2000.0}}, torch::kDouble);
  const auto pred = target + torch::tensor({{0.5, 100.0}, {-0.5, -100.0}, {0.5, 100.0}}, torch::kDouble);
  StreamingMetrics m({"small", "large"}, {0.5, 1000.0});
  m.update(pred, target);
  EXPECT_NEAR(m.mse()[1], 10000.0, 1e-9);
  EXPECT_NEAR(m.mae()[0], 0.5, 1e-12);
  EXPECT_NEAR(m.loss(), (0.25 / 0.25 + 10000.0 / 1e6) / 2, 1e-12);
  EXPECT_NEAR(m.mean_mae(), (0.5 / 0.5 + 100.0 / 1000.0) / 2, 1e-12);
  EXPECT_EQ(m.to_json()["targets"]["large"]["scale"], 1000.0);
  EXPECT_THROW(StreamingMetrics({"a"}, {0.0}), std::invalid_argument);
  EXPECT_THROW(StreamingMetrics({"a", "b"}, {1.0}), std::invalid_argument);
}
