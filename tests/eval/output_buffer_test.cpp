#include <gtest/gtest.h>

#include <cmath>

#include "safetrain/eval/output_buffer.hpp"

using safetrain::eval::BufferedOutputs;
using safetrain::eval::OutputBuffer;

namespace {

bool owns_storage(const torch::Tensor& t) {
  return t.storage().nbytes() == static_cast<size_t>(t.numel()) * t.element_size();
}

// Offers rows 0..n-1 (pred = row id in every column) in batches of `batch`.
void feed(OutputBuffer& buffer, int64_t n, int64_t batch = 50) {
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t len = std::min(batch, n - i);
    const auto ids = torch::arange(i, i + len);
    const auto values = ids.to(torch::kFloat).unsqueeze(1).repeat({1, buffer.dims()});
    buffer.add(values, values + 0.5f, ids);
  }
}

}  // namespace

TEST(OutputBuffer, NeverExceedsCapAndBytesStayConstant) {
  OutputBuffer buffer(100, 6, 1);
  const int64_t bytes = buffer.bytes();
  EXPECT_EQ(bytes, 100 * 6 * 4 * 2 + 100 * 8);
  buffer.begin_epoch(0);
  for (int round = 0; round < 20; ++round) {
    feed(buffer, 37, 7);
    EXPECT_LE(buffer.size(), 100);
    EXPECT_EQ(buffer.bytes(), bytes);
  }
  EXPECT_EQ(buffer.size(), 100);
  EXPECT_EQ(buffer.seen(), 20 * 37);
  EXPECT_EQ(buffer.snapshot().size(), 100);
}

TEST(OutputBuffer, FewerRowsThanCapKeepsAllInOrder) {
  OutputBuffer buffer(100, 2, 1);
  buffer.begin_epoch(3);
  feed(buffer, 30, 4);
  const auto snap = buffer.snapshot();
  ASSERT_EQ(snap.size(), 30);
  EXPECT_EQ(snap.epoch, 3);
  EXPECT_EQ(snap.seen, 30);
  EXPECT_TRUE(torch::equal(snap.row_ids, torch::arange(30)));
  EXPECT_TRUE(torch::allclose(snap.targets.select(1, 1), torch::arange(30).to(torch::kFloat) + 0.5f));
}

TEST(OutputBuffer, KeptTensorsOwnTheirStorageAndAreDetached) {
  OutputBuffer buffer(8, 3, 1);
  buffer.begin_epoch(0);
  const auto big = torch::randn({1000, 3}).requires_grad_();
  const auto out = big * 2;  // part of a graph
  buffer.add(out.narrow(0, 100, 20), out.narrow(0, 100, 20), torch::arange(20));
  const BufferedOutputs snap = buffer.snapshot();
  for (const auto& t : {snap.predictions, snap.targets, snap.row_ids}) {
    EXPECT_TRUE(owns_storage(t));
    EXPECT_FALSE(t.requires_grad());
    EXPECT_FALSE(t.grad_fn());
    EXPECT_TRUE(t.device().is_cpu());
  }
  EXPECT_EQ(snap.predictions.sizes(), (std::vector<int64_t>{8, 3}));
}

TEST(OutputBuffer, ReservoirIsUniformOverTheEpoch) {
  // Over many seeds, how often each tenth of the epoch lands in the sample is ~equal
  // (a first-N buffer would put everything in the first tenth).
  const int64_t n = 1000, cap = 50, runs = 200;
  std::vector<double> counts(10, 0.0);
  for (int64_t seed = 0; seed < runs; ++seed) {
    OutputBuffer buffer(cap, 1, static_cast<uint64_t>(seed));
    buffer.begin_epoch(0);
    feed(buffer, n, 64);
    const auto ids = buffer.snapshot().row_ids;
    for (int64_t i = 0; i < ids.size(0); ++i) counts[ids[i].item<int64_t>() / 100] += 1;
  }
  const double expected = static_cast<double>(cap * runs) / 10.0;
  double chi_square = 0.0;
  for (double c : counts) chi_square += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi_square, 30.0);  // 9 degrees of freedom: p < 0.0005 beyond this
}

TEST(OutputBuffer, ReproducibleForASeedDifferentForAnotherAndPerEpoch) {
  auto sample = [](uint64_t seed, int64_t epoch) {
    OutputBuffer buffer(20, 2, seed);
    buffer.begin_epoch(epoch);
    feed(buffer, 500, 16);
    return buffer.snapshot().row_ids;
  };
  EXPECT_TRUE(torch::equal(sample(5, 1), sample(5, 1)));
  EXPECT_FALSE(torch::equal(sample(5, 1), sample(6, 1)));
  EXPECT_FALSE(torch::equal(sample(5, 1), sample(5, 2)));
}

TEST(OutputBuffer, BeginEpochClearsAndCapacityZeroKeepsNothing) {
  OutputBuffer buffer(10, 1, 1);
  buffer.begin_epoch(0);
  feed(buffer, 30);
  EXPECT_EQ(buffer.size(), 10);
  buffer.begin_epoch(1);
  EXPECT_EQ(buffer.size(), 0);
  EXPECT_EQ(buffer.seen(), 0);
  EXPECT_EQ(buffer.snapshot().size(), 0);

  OutputBuffer none(0, 2, 1);
  none.begin_epoch(0);
  feed(none, 100);
  EXPECT_EQ(none.size(), 0);
  EXPECT_EQ(none.seen(), 100);
  EXPECT_EQ(none.bytes(), 0);
}

TEST(OutputBuffer, RowIdsDefaultToPositionAndBadShapesThrow) {
  OutputBuffer buffer(10, 2, 1);
  buffer.begin_epoch(0);
  buffer.add(torch::zeros({3, 2}), torch::zeros({3, 2}));
  buffer.add(torch::zeros({2, 2}, torch::kHalf), torch::zeros({2, 2}, torch::kDouble));
  EXPECT_TRUE(torch::equal(buffer.snapshot().row_ids, torch::arange(5)));
  EXPECT_THROW(buffer.add(torch::zeros({3, 3}), torch::zeros({3, 3})), std::invalid_argument);
  EXPECT_THROW(buffer.add(torch::zeros({3, 2}), torch::zeros({2, 2})), std::invalid_argument);
  EXPECT_THROW(OutputBuffer(-1, 2, 0), std::invalid_argument);
}
