#include <gtest/gtest.h>
#include <torch/torch.h>

#include "safetrain/common/error.hpp"
#include "safetrain/models/memory_budget.hpp"
#include "safetrain/models/memory_estimate.hpp"
#include "safetrain/models/parameter_count.hpp"
#include "safetrain/common/parse_setting.hpp"
#include "safetrain/models/safe_build.hpp"

using namespace safetrain::models;
using safetrain::parse_setting;

namespace {

ModelSpec seed_transformer() {
  ModelSpec spec;
  spec.type = ModelFamily::transformer;
  spec.input_features = 64;
  spec.outputs = 6;
  return spec;  // defaults: patch 4, d_model 512, 8 heads, 4 layers
}

constexpr int64_t kMb = 1024 * 1024;

}  // namespace

TEST(MemoryEstimate, PartsAddUpAndScaleWithParameters) {
  const auto e = estimate_memory(seed_transformer(), 4, OptimizerKind::adamw, Precision::fp32);
  const int64_t params = expected_parameter_count(seed_transformer());
  EXPECT_EQ(e.parameters, params);
  EXPECT_EQ(e.parameter_bytes, 4 * params);
  EXPECT_EQ(e.gradient_bytes, 4 * params);
  EXPECT_EQ(e.optimizer_bytes, 8 * params);
  EXPECT_EQ(e.total_bytes,
            e.parameter_bytes + e.gradient_bytes + e.optimizer_bytes + e.activation_bytes + e.workspace_bytes);
  EXPECT_NE(e.summary().find("MB"), std::string::npos);
}

TEST(MemoryEstimate, GrowsWithBatchAndOptimizerState) {
  const auto spec = seed_transformer();
  const auto small = estimate_memory(spec, 4, OptimizerKind::adam, Precision::fp32);
  const auto big = estimate_memory(spec, 64, OptimizerKind::adam, Precision::fp32);
  EXPECT_GT(big.activation_bytes, small.activation_bytes);
  EXPECT_GT(big.total_bytes, small.total_bytes);
  EXPECT_GT(estimate_memory(spec, 4, OptimizerKind::adam, Precision::fp32).total_bytes, estimate_memory(spec, 4, OptimizerKind::sgd, Precision::fp32).total_bytes);
  EXPECT_LT(estimate_memory(spec, 64, OptimizerKind::adam, Precision::fp16).activation_bytes, big.activation_bytes);
  const auto inference = estimate_memory(spec, 4, OptimizerKind::adam, Precision::fp32, /*training=*/false);
  EXPECT_EQ(inference.gradient_bytes, 0);
  EXPECT_EQ(inference.optimizer_bytes, 0);
  EXPECT_LT(inference.total_bytes, small.total_bytes);
}

TEST(MemoryEstimate, UnknownNamesAreInputErrors) {
  // Names are parsed once, at load time; the parse names the key.
  EXPECT_THROW(estimate_memory(seed_transformer(), 4, parse_setting<OptimizerKind>("training.optimizer", "lbfgs"),
                               Precision::fp32),
               safetrain::InputError);
  EXPECT_THROW(estimate_memory(seed_transformer(), 4, OptimizerKind::adam,
                               parse_setting<Precision>("training.precision", "8")),
               safetrain::InputError);
  EXPECT_THROW(estimate_memory(seed_transformer(), 0, OptimizerKind::adam, Precision::fp32), safetrain::InputError);
}

TEST(MemoryEstimate, ActivationsCoverTheFeedForwardTensorsAutogradKeeps) {
  // A lower bound that must hold: each layer keeps at least its linear1 output
  // and ReLU output ([batch, tokens, 4*d_model] floats) for the backward pass.
  const int64_t batch = 8, tokens = 16, feedforward = 2048, layers = 4;
  const int64_t floor_bytes = layers * 2 * batch * tokens * feedforward * 4;
  EXPECT_GT(estimate_memory(seed_transformer(), batch, OptimizerKind::adam, Precision::fp32).activation_bytes, floor_bytes);
}

TEST(MemoryEstimate, LargestBatchThatFitsIsTight) {
  const auto spec = seed_transformer();
  const int64_t available = 400 * kMb;
  const int64_t batch = largest_batch_that_fits(spec, OptimizerKind::adamw, Precision::fp32, available);
  ASSERT_GT(batch, 0);
  EXPECT_LE(estimate_memory(spec, batch, OptimizerKind::adamw, Precision::fp32).total_bytes, available);
  EXPECT_GT(estimate_memory(spec, batch + 1, OptimizerKind::adamw, Precision::fp32).total_bytes, available);
  EXPECT_EQ(largest_batch_that_fits(spec, OptimizerKind::adamw, Precision::fp32, 10 * kMb), 0);
}

TEST(Budget, HostReportsPositiveFreeMemory) {
  const auto budget = current_budget("cpu");
  EXPECT_EQ(budget.device, "cpu");
  EXPECT_GT(budget.free_bytes, 0);
  EXPECT_FALSE(budget.source.empty());
  EXPECT_THROW(current_budget("tpu"), safetrain::InputError);
  EXPECT_THROW(current_budget("cuda:x"), safetrain::InputError);
}

TEST(CheckFits, RefusesWithImpossibleReserveAndSuggestsAFix) {
  const auto estimate = estimate_memory(seed_transformer(), 4, OptimizerKind::adamw, Precision::fp32);
  const auto budget = current_budget("cpu");
  EXPECT_NO_THROW(check_fits(estimate, budget, 0.0, 4));
  try {
    check_fits(estimate, budget, 1e12, 4);
    FAIL() << "an impossible memory.min_free_mb was accepted";
  } catch (const safetrain::ResourceError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("try"), std::string::npos) << message;
    EXPECT_NE(message.find("memory.min_free_mb"), std::string::npos) << message;
    EXPECT_NE(message.find("needs ~"), std::string::npos) << message;
  }
}

TEST(CheckFits, SuggestsTheBatchThatWouldFit) {
  const auto spec = seed_transformer();
  const auto estimate = estimate_memory(spec, 256, OptimizerKind::adamw, Precision::fp32);
  const int64_t fits = largest_batch_that_fits(spec, OptimizerKind::adamw, Precision::fp32, 400 * kMb);
  const Budget budget{"cpu", 400 * kMb, "test"};
  try {
    check_fits(estimate, budget, 0.0, 256);
    FAIL();
  } catch (const safetrain::ResourceError& e) {
    const std::string message = e.what();
    const auto at = message.find("training.batch_size ");
    ASSERT_NE(at, std::string::npos) << message;
    const int64_t suggested = std::stoll(message.substr(at + 20));
    EXPECT_GE(suggested, 1);
    EXPECT_LE(suggested, fits);
    EXPECT_LE(estimate_memory(spec, suggested, OptimizerKind::adamw, Precision::fp32).total_bytes, 400 * kMb);
  }
}

// Regression: on an 80 GB card under memory.device_budget_mb 4096 the safe-build check used the card's
// free memory, admitting models the budget then stopped with an out-of-memory error mid-run.
TEST(DeviceBudget, TheConfiguredBudgetCapsAGpuButNeverTheHost) {
  const Budget card{"cuda:0", 80000 * kMb, "cudaMemGetInfo free"};
  const auto capped = capped_by_device_budget(card, 4096);
  EXPECT_EQ(capped.free_bytes, 4096 * kMb);
  EXPECT_NE(capped.source.find("memory.device_budget_mb"), std::string::npos) << capped.source;
  EXPECT_EQ(capped_by_device_budget(card, 0).free_bytes, 80000 * kMb);       // no budget set
  EXPECT_EQ(capped_by_device_budget(card, 90000).free_bytes, 80000 * kMb);   // a budget above what is free
  const Budget host{"cpu", 8000 * kMb, "MemAvailable"};
  EXPECT_EQ(capped_by_device_budget(host, 4096).free_bytes, 8000 * kMb);
  const auto estimate = estimate_memory(seed_transformer(), 4096, OptimizerKind::adamw, Precision::fp32);
  ASSERT_GT(estimate.total_bytes, 4096 * kMb);
  ASSERT_LT(estimate.total_bytes, 80000 * kMb);
  EXPECT_THROW(check_fits(estimate, capped, 0.0, 4096), safetrain::ResourceError);
}

TEST(SafeBuild, RefusesBeforeAllocatingAndBuildsWhenItFits) {
  ModelSpec spec;
  spec.type = ModelFamily::mlp;
  spec.input_features = 8;
  spec.outputs = 2;
  SafeBuildOptions options(4, OptimizerKind::adamw, Precision::fp32, /*min_free_mb=*/1e12);
  EXPECT_THROW(build_model_safely(spec, options), safetrain::ResourceError);
  options.min_free_mb = 0;
  auto model = build_model_safely(spec, options);
  EXPECT_EQ(count_parameters(*model), expected_parameter_count(spec));
}

// A Jetson-class board (faked): cudaMemGetInfo says half of what the seed model needs is free
// (page cache fills the pool), MemAvailable says 2900 MB. The safe-instantiation check must budget
// against MemAvailable there, and name it when refusing.
TEST(DeviceBudget, IntegratedGpuBudgetsAgainstMemAvailable) {
  using safetrain::monitor::DeviceDescription;
  using safetrain::monitor::HostMemory;
  const auto estimate = estimate_memory(seed_transformer(), 4, OptimizerKind::adamw, Precision::fp16);
  const int64_t cuda_free = estimate.total_bytes / 2;
  const HostMemory host{2900 * kMb, 3956 * kMb};
  const DeviceDescription board{true, true, cuda_free, 3956 * kMb, "Orin (faked)"};
  const DeviceDescription card{true, false, cuda_free, 4096 * kMb, "discrete (faked)"};

  const auto shared = device_budget_from("cuda:0", board, host);
  EXPECT_EQ(shared.free_bytes, 2900 * kMb);
  EXPECT_NE(shared.source.find("MemAvailable"), std::string::npos) << shared.source;
  ASSERT_LT(estimate.total_bytes, 2900 * kMb - 1200 * kMb);
  EXPECT_NO_THROW(check_fits(estimate, shared, 1200, 4));

  const auto discrete = device_budget_from("cuda:0", card, host);
  EXPECT_EQ(discrete.free_bytes, cuda_free);
  EXPECT_THROW(check_fits(estimate, discrete, 0, 4), safetrain::ResourceError);
  try {
    check_fits(estimate, shared, 2800, 4);
    FAIL() << "a reserve larger than MemAvailable was accepted";
  } catch (const safetrain::ResourceError& e) {
    EXPECT_NE(std::string(e.what()).find("integrated GPU"), std::string::npos) << e.what();
  }
}

// CUDA-only (skipped without a device): the safe-instantiation budget of a real device.
TEST(CudaBudget, DeviceBudgetComesFromTheDescription) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const auto budget = current_budget("cuda");
  EXPECT_EQ(budget.device, "cuda:0");
  EXPECT_GT(budget.free_bytes, 0);
  const auto device = safetrain::monitor::describe_cuda_device(0);
  EXPECT_EQ(budget.source.find("MemAvailable") != std::string::npos, device.integrated) << budget.source;
  EXPECT_THROW(current_budget("cuda:4096"), safetrain::InputError);
}

// Regression: permutation importance ran the seed transformer on batches of 512 rows without gradients
// after training on batches of 4, reaching +590 MB over the runtime in the run's last minute.
TEST(InferenceBound, AnInferencePassStaysWithinATrainingStepsActivations) {
  for (const int64_t batch : {1, 4, 64}) {
    SCOPED_TRACE(batch);
    const auto spec = seed_transformer();
    const int64_t rows = inference_rows_within_training(spec, batch, Precision::fp32);
    ASSERT_GE(rows, 1);
    const auto training = estimate_memory(spec, batch, OptimizerKind::adam, Precision::fp32);
    const auto inference = estimate_memory(spec, rows, OptimizerKind::adam, Precision::fp32, /*training=*/false);
    EXPECT_LE(inference.activation_bytes, training.activation_bytes);
    EXPECT_LE(largest_tensor_bytes(spec, rows), largest_tensor_bytes(spec, batch));
    // ...and is not needlessly small: one more row would not fit one of the two bounds (since issue 30 the
    // largest tensor is bounded too).
    const auto one_more = estimate_memory(spec, rows + 1, OptimizerKind::adam, Precision::fp32, false);
    EXPECT_TRUE(one_more.activation_bytes > training.activation_bytes ||
                largest_tensor_bytes(spec, rows + 1) > largest_tensor_bytes(spec, batch));
  }
  EXPECT_LT(inference_rows_within_training(seed_transformer(), 4, Precision::fp32), 512);
}

// Regression (issue 30): after training the d512 transformer on batches of 16, importance ran batches of 161
// rows whose feed-forward tensors (21 MB) outgrew every block of a training step (the 4 MB feed-forward
// weights); glibc then raised its thresholds and its heap crept 100 MB above the plots' level.
TEST(InferenceBound, NoTensorOfAnInferencePassOutgrowsATrainingStepsLargest) {
  const auto spec = seed_transformer();
  const int64_t weights_block = 4 * spec.d_model * 4 * spec.d_model;  // linear1: 2048 x 512 floats
  EXPECT_EQ(largest_tensor_bytes(spec, 16), weights_block);
  const int64_t rows = inference_rows_within_training(spec, 16, Precision::fp32);
  EXPECT_GE(rows, 16) << "a batch as large as training's always fits";
  EXPECT_LE(largest_tensor_bytes(spec, rows), weights_block);
  EXPECT_GT(largest_tensor_bytes(spec, rows + 1), weights_block);
  ModelSpec mlp;
  mlp.input_features = 64;
  mlp.outputs = 6;
  // Past the weights, the widest activation decides: batch x hidden floats.
  EXPECT_EQ(largest_tensor_bytes(mlp, 1024), 1024 * mlp.hidden * 4);
  EXPECT_EQ(inference_rows_within_training(mlp, 1024, Precision::fp32), 1024);
}
