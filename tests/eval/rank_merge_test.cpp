// What data-parallel ranks combine: streaming metrics (exactly) and bounded output samples (uniformly).
#include <gtest/gtest.h>

#include <cmath>

#include "safetrain/eval/sample_merge.hpp"
#include "safetrain/eval/streaming_metrics.hpp"

using namespace safetrain::eval;

TEST(MetricsMerge, TwoShardsEqualOnePassOverAllRows) {
  torch::manual_seed(3);
  const auto target = torch::randn({1001, 2}, torch::kDouble) * 5 + 1e4;  // a large offset stresses the variance
  const auto pred = target + torch::randn({1001, 2}, torch::kDouble);
  StreamingMetrics whole({"a", "b"}), first({"a", "b"}), second({"a", "b"});
  whole.update(pred, target);
  first.update(pred.narrow(0, 0, 400), target.narrow(0, 0, 400));
  second.update(pred.narrow(0, 400, 601), target.narrow(0, 400, 601));
  StreamingMetrics merged({"a", "b"});
  merged.merge(first.accumulators());
  merged.merge(second.accumulators());
  EXPECT_EQ(merged.count(), 1001);
  for (size_t j = 0; j < 2; ++j) {
    EXPECT_NEAR(merged.mse()[j], whole.mse()[j], 1e-12 * whole.mse()[j]);
    EXPECT_NEAR(merged.mae()[j], whole.mae()[j], 1e-12 * whole.mae()[j]);
    EXPECT_NEAR(merged.r2()[j], whole.r2()[j], 1e-12);
  }
  StreamingMetrics empty({"a", "b"});
  merged.merge(empty.accumulators());  // a rank without rows changes nothing
  EXPECT_EQ(merged.count(), 1001);
  EXPECT_THROW(merged.merge({1.0, 2.0}), std::invalid_argument);
}

namespace {

BufferedOutputs part(int64_t first_id, int64_t kept, int64_t seen) {
  BufferedOutputs out;
  out.row_ids = torch::arange(first_id, first_id + kept, torch::kLong);
  out.predictions = out.row_ids.to(torch::kFloat).unsqueeze(1);
  out.targets = out.predictions * 2;
  out.seen = seen;
  out.epoch = 4;
  return out;
}

}  // namespace

TEST(SampleMerge, DrawsFollowRowsSeenAndNeverExceedAPart) {
  int64_t from_big = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto draws = draws_per_part({900, 100, 0}, 50, seed);
    EXPECT_EQ(draws[0] + draws[1], 50);
    EXPECT_EQ(draws[2], 0);
    from_big += draws[0];
  }
  // Expected share 0.9 of 50 draws x 200 seeds = 9000; the hypergeometric sd over 200 runs is about 29.
  EXPECT_NEAR(static_cast<double>(from_big), 9000.0, 200.0);
  EXPECT_EQ(draws_per_part({3, 2}, 10, 1), (std::vector<int64_t>{3, 2}));  // fewer rows than the cap: all of them
}

TEST(SampleMerge, OneSampleOfTheCapSortedByRowWithRowsMatchingTheirOutputs) {
  const auto merged = merge_samples({part(0, 100, 5000), part(10000, 100, 1000)}, 100, 9);
  EXPECT_EQ(merged.size(), 100);
  EXPECT_EQ(merged.seen, 6000);
  EXPECT_EQ(merged.epoch, 4);
  EXPECT_TRUE(torch::equal(std::get<0>(merged.row_ids.sort()), merged.row_ids));
  EXPECT_TRUE(torch::equal(merged.predictions.squeeze(1), merged.row_ids.to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(merged.targets, merged.predictions * 2));
  EXPECT_EQ(std::get<0>(torch::_unique(merged.row_ids)).size(0), 100);  // no row twice
  const int64_t from_second = (merged.row_ids >= 10000).sum().item<int64_t>();
  EXPECT_GT(from_second, 3);   // about 100 * 1000 / 6000 = 17
  EXPECT_LT(from_second, 35);
}
