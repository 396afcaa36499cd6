#include <gtest/gtest.h>
#include <torch/torch.h>

#include "safetrain/train/grad_scaler.hpp"
#include "safetrain/train/optimizer_step.hpp"

using namespace safetrain::train;

namespace {
struct Fixture {
  torch::Tensor weight = torch::ones({3}, torch::requires_grad());
  torch::optim::SGD optimizer{std::vector<torch::Tensor>{weight}, torch::optim::SGDOptions(0.1)};
};
}  // namespace

TEST(GradScaler, ScalesLossAndUnscalesGradientsBeforeTheStep) {
  Fixture f;
  GradScaler scaler({/*init_scale=*/1024.0, 2.0, 0.5, /*growth_interval=*/1000, true});
  const auto loss = (f.weight * 2.0).sum();
  scaler.scale(loss).backward();
  EXPECT_NEAR(f.weight.grad()[0].item<double>(), 2048.0, 1e-6);
  EXPECT_FALSE(scaler.unscale({f.weight}));
  EXPECT_NEAR(f.weight.grad()[0].item<double>(), 2.0, 1e-6);
  EXPECT_TRUE(scaler.step(f.optimizer, {f.weight}));
  scaler.update();
  EXPECT_NEAR(f.weight[0].item<double>(), 1.0 - 0.1 * 2.0, 1e-6);
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 1024.0);
}

TEST(GradScaler, OverflowSkipsTheStepAndBacksOff) {
  Fixture f;
  GradScaler scaler({65536.0, 2.0, 0.5, 1000, true});
  const auto loss = (f.weight * std::numeric_limits<float>::max()).sum();  // scaled gradient overflows to inf
  scaler.scale(loss).backward();
  EXPECT_FALSE(scaler.step(f.optimizer, {f.weight}));
  scaler.update();
  EXPECT_TRUE(torch::equal(f.weight, torch::ones({3})));  // weights untouched
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 32768.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
}

TEST(GradScaler, NanGradientAlsoSkips) {
  Fixture f;
  GradScaler scaler({8.0, 2.0, 0.5, 1000, true});
  scaler.scale((f.weight * std::nan("")).sum()).backward();
  EXPECT_FALSE(scaler.step(f.optimizer, {f.weight}));
  scaler.update();
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 4.0);
}

TEST(GradScaler, GrowsAfterGrowthIntervalCleanSteps) {
  Fixture f;
  GradScaler scaler({4.0, 2.0, 0.5, /*growth_interval=*/3, true});
  for (int i = 0; i < 3; ++i) {
    f.optimizer.zero_grad();
    scaler.scale(f.weight.sum()).backward();
    EXPECT_TRUE(scaler.step(f.optimizer, {f.weight}));
    scaler.update();
  }
  EXPECT_DOUBLE_EQ(scaler.current_scale(), 8.0);
}

TEST(GradScaler, ClippingSeesUnscaledGradients) {
  Fixture f;
  GradScaler scaler({1024.0, 2.0, 0.5, 1000, true});
  OptimizerStep step({f.weight}, f.optimizer, scaler, {1, /*clip=*/1.0, ClipAlgorithm::norm});
  step.backward((f.weight * 10.0).sum(), 1);   // gradient norm 10*sqrt(3) before clipping
  EXPECT_TRUE(step.finish_window());
  ASSERT_TRUE(step.last_gradient_norm().has_value());
  EXPECT_NEAR(*step.last_gradient_norm(), 10.0 * std::sqrt(3.0), 1e-3);
  // clipped to norm 1: each component 1/sqrt(3); lr 0.1
  EXPECT_NEAR(f.weight[0].item<double>(), 1.0 - 0.1 / std::sqrt(3.0), 1e-5);
}

// The fused unscale runs once per (device, dtype) group: every group is unscaled, a parameter without
// a gradient is left alone, and an overflow in any one group skips the step.
TEST(GradScaler, FusedUnscaleCoversEveryDtypeGroupAndSeesAnOverflowInAnyOfThem) {
  auto single = torch::ones({4}, torch::requires_grad());
  auto doubled = torch::ones({2}, torch::dtype(torch::kDouble).requires_grad(true));
  auto unused = torch::ones({2}, torch::requires_grad());
  GradScaler scaler({16.0, 2.0, 0.5, 1000, true});
  scaler.scale(single.sum() * 3.0 + doubled.sum().to(torch::kFloat) * 5.0).backward();
  EXPECT_FALSE(scaler.unscale({single, doubled, unused}));
  EXPECT_TRUE(torch::allclose(single.grad(), torch::full({4}, 3.0)));
  EXPECT_TRUE(torch::allclose(doubled.grad(), torch::full({2}, 5.0, torch::kDouble)));
  EXPECT_FALSE(unused.grad().defined());
  scaler.update();

  single.mutable_grad().zero_();
  doubled.mutable_grad().fill_(std::numeric_limits<double>::infinity());
  EXPECT_TRUE(scaler.unscale({single, doubled, unused}));
}
