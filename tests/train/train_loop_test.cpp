// The inner loops on their own: a linear model, a loader and the meters, no session.
#include <gtest/gtest.h>

#include <algorithm>
#include <torch/torch.h>

#include "safetrain/train/train_loop.hpp"

using namespace safetrain;
using namespace safetrain::train;

namespace {

data::SplitTensors linear_rows(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  const auto x = torch::randn({n, 4});
  const auto y = torch::mm(x, torch::tensor({{1.0f, -2.0f}, {0.5f, 0.0f}, {0.0f, 1.0f}, {2.0f, 0.3f}}));
  return {x, y, torch::arange(n, torch::kLong)};
}

struct Rig {
  torch::nn::Linear model{4, 2};
  torch::optim::SGD optimizer{model->parameters(), torch::optim::SGDOptions(0.05)};
  GradScaler scaler{GradScalerOptions{1.0, 2.0, 0.5, 1000, false}};
  PrecisionPlan precision;
  data::Loader loader;

  explicit Rig(int64_t rows, int64_t batch = 8) : loader(linear_rows(rows, 1), loader_options(batch)) {}
  static data::LoaderOptions loader_options(int64_t batch) {
    data::LoaderOptions o;
    o.batch_size = batch;
    o.workers.num_workers = 0;
    return o;
  }
  StepParts parts() {
    return {*model, [this](const torch::Tensor& x) { return model->forward(x); }, optimizer, scaler, precision,
            torch::kCPU};
  }
};

const auto kNoStop = [] { return std::optional<RunEnd>(); };

}  // namespace

TEST(TrainLoop, LearnsAndReportsEveryBatchAndStep) {
  Rig rig(64);
  TrainLoopOptions options;
  options.step.accumulate_grad_batches = 3;
  std::vector<BatchEnd> ends;
  const auto first = train_one_epoch(rig.parts(), rig.loader, 0, options,
                                     [&](const BatchEnd& b) { ends.push_back(b); }, kNoStop);
  ASSERT_EQ(ends.size(), 8u);                // 64 rows / batch 8
  EXPECT_EQ(first.steps, 3);                 // windows of 3, 3 and the last 2
  EXPECT_EQ(first.samples, 64);
  EXPECT_TRUE(ends[2].stepped && ends[2].grad_norm && *ends[2].grad_norm > 0);
  EXPECT_FALSE(ends[3].stepped);
  EXPECT_TRUE(ends[7].stepped);
  double last = first.mean_loss;
  for (int64_t epoch = 1; epoch < 5; ++epoch) {
    last = train_one_epoch(rig.parts(), rig.loader, epoch, options, [](const BatchEnd&) {}, kNoStop).mean_loss;
  }
  EXPECT_LT(last, first.mean_loss * 0.5);
}

TEST(TrainLoop, AStopRequestEndsThePassAtTheBatchBoundary) {
  Rig rig(64);
  int batches = 0;
  const auto pass = train_one_epoch(rig.parts(), rig.loader, 0, {}, [&](const BatchEnd&) { ++batches; },
                                    [&] { return batches == 3 ? std::optional<RunEnd>(RunEnd::signal) : std::nullopt; });
  EXPECT_EQ(pass.stop, RunEnd::signal);
  EXPECT_EQ(pass.samples, 24);
}

namespace {

// 32 rows in 4 unshuffled batches of 8; a target of batch 2 is NaN.
data::Loader loader_with_nan_in_batch_two() {
  auto rows = linear_rows(32, 2);
  rows.y[9][0] = NAN;
  data::LoaderOptions o = Rig::loader_options(8);
  o.shuffle = false;
  return data::Loader(rows, o);
}

}  // namespace

TEST(TrainLoop, NonFiniteLossIsSkippedOrStops) {
  Rig rig(8);
  auto loader = loader_with_nan_in_batch_two();
  TrainLoopOptions skip;
  skip.on_nan = OnNan::skip;
  const auto skipped = train_one_epoch(rig.parts(), loader, 0, skip, [](const BatchEnd&) {}, kNoStop);
  EXPECT_EQ(skipped.nan_skipped, 1);
  EXPECT_FALSE(skipped.stop);
  EXPECT_EQ(skipped.samples, 24);
  const auto stopped = train_one_epoch(rig.parts(), loader, 0, {}, [](const BatchEnd&) {}, kNoStop);
  EXPECT_EQ(stopped.stop, RunEnd::nan_loss);
}

namespace {

// A rank's view of a data-parallel run: records when the loop agrees and averages, and lets a test say
// what the other ranks asked for.
struct RecordingSync : StepSync {
  std::vector<std::string> calls;
  std::vector<std::optional<RunEnd>> locals;
  int stop_from_peer_at = 0;  // the agreement returns a signal at this call (1-based); 0 = never
  std::optional<RunEnd> agree_on_stop(std::optional<RunEnd> local) override {
    calls.push_back("agree");
    locals.push_back(local);
    if (static_cast<int>(locals.size()) == stop_from_peer_at) return RunEnd::signal;
    return local;
  }
  void average_gradients() override { calls.push_back("average"); }
};

}  // namespace

TEST(TrainLoop, RanksAgreeEveryBatchAndAverageOnlyAtWindowEnds) {
  Rig rig(64);
  RecordingSync sync;
  auto parts = rig.parts();
  parts.sync = &sync;
  TrainLoopOptions options;
  options.step.accumulate_grad_batches = 3;
  const auto pass = train_one_epoch(parts, rig.loader, 0, options, [](const BatchEnd&) {}, kNoStop);
  EXPECT_EQ(pass.steps, 3);
  // 8 batches in windows of 3, 3, 2: gradients are averaged only after each window's last batch.
  EXPECT_EQ(sync.calls, (std::vector<std::string>{"agree", "agree", "agree", "average", "agree", "agree", "agree",
                                                  "average", "agree", "agree", "average"}));
}

TEST(TrainLoop, APeersStopEndsThisRankAtTheSameBatch) {
  Rig rig(64);
  RecordingSync sync;
  sync.stop_from_peer_at = 4;
  auto parts = rig.parts();
  parts.sync = &sync;
  int batch_ends = 0;
  const auto pass = train_one_epoch(parts, rig.loader, 0, {}, [&](const BatchEnd&) { ++batch_ends; }, kNoStop);
  EXPECT_EQ(pass.stop, RunEnd::signal);
  EXPECT_EQ(batch_ends, 3);  // batch 4 was agreed away before its step
  EXPECT_EQ(pass.steps, 3);
}

TEST(TrainLoop, ANonFiniteLossOnThisRankIsAgreedNotAnEarlyExit) {
  Rig rig(8);
  auto loader = loader_with_nan_in_batch_two();
  RecordingSync sync;
  auto parts = rig.parts();
  parts.sync = &sync;
  TrainLoopOptions skip;
  skip.on_nan = OnNan::skip;
  skip.step.accumulate_grad_batches = 2;
  const auto skipped = train_one_epoch(parts, loader, 0, skip, [](const BatchEnd&) {}, kNoStop);
  EXPECT_EQ(skipped.nan_skipped, 1);
  EXPECT_EQ(skipped.steps, 2);  // the skipped batch still closes its window on every rank
  EXPECT_EQ(std::count(sync.calls.begin(), sync.calls.end(), "average"), 2);
  sync = RecordingSync{};
  const auto stopped = train_one_epoch(parts, loader, 0, {}, [](const BatchEnd&) {}, kNoStop);
  EXPECT_EQ(stopped.stop, RunEnd::nan_loss);
  ASSERT_EQ(sync.locals.size(), 2u);  // the stop went through the agreement, so the peers stop too
  EXPECT_EQ(sync.locals[1], RunEnd::nan_loss);
}

TEST(Evaluate, ExactMetricsOverEveryRowAndABoundedSample) {
  Rig rig(50, 7);
  eval::StreamingMetrics metrics({"a", "b"});
  eval::OutputBuffer buffer(10, 2, 3);
  const auto scaler = data::Standardizer::identity(2);
  EvalPieces pieces;
  const auto pass = evaluate({*rig.model, [&](const torch::Tensor& x) { return rig.model->forward(x); }, rig.precision,
                              torch::kCPU, rig.loader, scaler, metrics, buffer, pieces},
                             4);
  EXPECT_EQ(pass.samples, 50);
  EXPECT_EQ(metrics.count(), 50);
  EXPECT_EQ(buffer.size(), 10);
  EXPECT_EQ(buffer.snapshot().epoch, 4);
  torch::NoGradGuard no_grad;
  const auto all = linear_rows(50, 1);
  const double expected = torch::mse_loss(rig.model->forward(all.x), all.y).item<double>();
  EXPECT_NEAR(pass.loss, expected, 1e-5);
  EXPECT_NEAR(metrics.loss(), expected, 1e-5);
  EXPECT_TRUE(rig.model->is_training());  // left in training mode for the next epoch
}

TEST(Evaluate, OutOfMemoryWithShrinkEvaluatesInHalvedPiecesWithTheSameResults) {
  Rig rig(50, 16);
  const auto scaler = data::Standardizer::identity(2);
  const Forward forward = [&](const torch::Tensor& x) { return rig.model->forward(x); };
  eval::StreamingMetrics whole_metrics({"a", "b"}), piece_metrics({"a", "b"});
  eval::OutputBuffer whole_buffer(100, 2, 3), piece_buffer(100, 2, 3);
  EvalPieces whole;
  const auto reference =
      evaluate({*rig.model, forward, rig.precision, torch::kCPU, rig.loader, scaler, whole_metrics, whole_buffer, whole}, 1);
  EvalPieces pieces{OnOom::shrink, 0, true, "validation"};
  const auto shrunk =
      evaluate({*rig.model, forward, rig.precision, torch::kCPU, rig.loader, scaler, piece_metrics, piece_buffer, pieces}, 1);
  EXPECT_EQ(pieces.rows, 8);  // the 16-row batch failed once and is now evaluated 8 rows at a time
  EXPECT_FALSE(pieces.inject_oom);
  EXPECT_EQ(shrunk.samples, 50);
  EXPECT_NEAR(shrunk.loss, reference.loss, 1e-6 * std::abs(reference.loss));
  EXPECT_NEAR(piece_metrics.mean_r2(), whole_metrics.mean_r2(), 1e-6);
  EXPECT_TRUE(torch::allclose(piece_buffer.snapshot().predictions, whole_buffer.snapshot().predictions, 1e-6, 1e-6));

  EvalPieces stop{OnOom::stop, 0, true, "validation"};  // training.on_oom: stop: the error goes up, nothing shrinks
  EXPECT_THROW(
      evaluate({*rig.model, forward, rig.precision, torch::kCPU, rig.loader, scaler, piece_metrics, piece_buffer, stop}, 2),
      c10::Error);
  EXPECT_EQ(stop.rows, 0);
}
