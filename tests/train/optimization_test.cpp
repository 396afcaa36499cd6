#include <gtest/gtest.h>
#include <torch/torch.h>

#include "safetrain/train/optimization.hpp"
#include "safetrain/train/optimizer_step.hpp"

using namespace safetrain::train;

namespace {

TrainingOptions training(Scheduler scheduler) {
  TrainingOptions t;
  t.lr = 1.0;
  t.min_lr = 0.0;
  t.max_epochs = 10;
  t.scheduler = scheduler;
  t.warmup_epochs = 0;
  t.step_size = 3;
  t.gamma = 0.5;
  t.plateau_patience = 1;
  t.optimizer = safetrain::models::OptimizerKind::sgd;
  return t;
}

// Gradient of a linear model's MSE after feeding `batches` of `rows` through OptimizerStep.
torch::Tensor accumulated_gradient(int64_t batch_size, int64_t accumulate) {
  torch::manual_seed(3);
  torch::nn::Linear model(4, 2);
  const auto x = torch::randn({16, 4});
  const auto y = torch::randn({16, 2});
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.0));
  GradScaler scaler({1.0, 2.0, 0.5, 1000, false});
  OptimizerStep step(model->parameters(), optimizer, scaler, {accumulate, 0.0, ClipAlgorithm::norm});
  const int64_t batches = 16 / batch_size;
  for (int64_t b = 0; b < batches; ++b) {
    const auto xb = x.narrow(0, b * batch_size, batch_size);
    const auto yb = y.narrow(0, b * batch_size, batch_size);
    step.backward(torch::mse_loss(model(xb), yb), window_size(b, batches, accumulate));
  }
  return model->weight.grad().clone();
}

}  // namespace

TEST(Accumulation, KBatchesOfBEqualOneBatchOfKB) {
  const auto one_big = accumulated_gradient(16, 1);
  const auto accumulated = accumulated_gradient(4, 4);
  EXPECT_TRUE(torch::allclose(one_big, accumulated, 1e-5, 1e-6)) << one_big << accumulated;
}

TEST(Accumulation, LastPartialWindowIsAMeanOverItsOwnBatches) {
  EXPECT_EQ(window_size(0, 10, 4), 4);
  EXPECT_EQ(window_size(7, 10, 4), 4);
  EXPECT_EQ(window_size(8, 10, 4), 2);
  EXPECT_EQ(window_size(9, 10, 4), 2);
  EXPECT_EQ(window_size(0, 1, 4), 1);
}

TEST(Schedule, WarmupRisesLinearlyThenCosineDecays) {
  auto t = training(Scheduler::cosine);
  t.warmup_epochs = 3;
  LearningRateSchedule schedule(t);
  EXPECT_NEAR(schedule.lr_for_epoch(0), 0.25, 1e-12);
  EXPECT_NEAR(schedule.lr_for_epoch(2), 0.75, 1e-12);
  EXPECT_NEAR(schedule.lr_for_epoch(3), 1.0, 1e-12);
  EXPECT_LT(schedule.lr_for_epoch(6), schedule.lr_for_epoch(5));
  EXPECT_NEAR(schedule.lr_for_epoch(10), 0.0, 1e-12);
}

TEST(Schedule, StepAndPlateauDecayByGamma) {
  LearningRateSchedule step(training(Scheduler::step));
  EXPECT_DOUBLE_EQ(step.lr_for_epoch(2), 1.0);
  EXPECT_DOUBLE_EQ(step.lr_for_epoch(3), 0.5);
  EXPECT_DOUBLE_EQ(step.lr_for_epoch(6), 0.25);

  LearningRateSchedule plateau(training(Scheduler::plateau));
  plateau.observe_metric(1.0);
  plateau.observe_metric(1.0);   // 1 bad check: within patience
  EXPECT_DOUBLE_EQ(plateau.lr_for_epoch(5), 1.0);
  plateau.observe_metric(1.0);   // 2 bad checks > patience 1: decay
  EXPECT_DOUBLE_EQ(plateau.lr_for_epoch(5), 0.5);
  LearningRateSchedule none(training(Scheduler::none));
  EXPECT_DOUBLE_EQ(none.lr_for_epoch(9), 1.0);
}

TEST(EarlyStopping, StopsAfterPatienceChecksWithoutImprovement) {
  EarlyStopping early(true, 2, 0.01);
  EXPECT_TRUE(early.observe(1.0));
  EXPECT_FALSE(early.observe(0.995));  // below min_delta: not an improvement
  EXPECT_FALSE(early.should_stop());
  EXPECT_FALSE(early.observe(1.2));
  EXPECT_TRUE(early.should_stop());
  EarlyStopping off(false, 1, 0.0);
  off.observe(1.0);
  off.observe(2.0);
  EXPECT_FALSE(off.should_stop());
}

TEST(Optimizer, FactoryBuildsEachKindWithWeightDecay) {
  torch::nn::Linear model(2, 1);
  for (const auto kind : {safetrain::models::OptimizerKind::adam, safetrain::models::OptimizerKind::adamw,
                          safetrain::models::OptimizerKind::sgd}) {
    auto t = training(Scheduler::none);
    t.optimizer = kind;
    t.weight_decay = 0.01;
    auto optimizer = make_optimizer(t, model->parameters());
    set_learning_rate(*optimizer, 0.123);
    EXPECT_DOUBLE_EQ(learning_rate(*optimizer), 0.123) << safetrain::name_of(kind);
  }
}
