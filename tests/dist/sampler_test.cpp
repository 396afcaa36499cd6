// The distributed sampler: the same permutation on every rank, interleaved shards, equal steps.
#include <gtest/gtest.h>

#include <set>

#include "safetrain/data/distributed_sampler.hpp"
#include "safetrain/data/loader.hpp"

using namespace safetrain::data;

namespace {

std::vector<int64_t> values(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

SplitTensors rows(int64_t n) {
  SplitTensors s;
  s.x = torch::arange(n, torch::kFloat).unsqueeze(1);
  s.y = torch::arange(n, torch::kFloat).unsqueeze(1);
  s.row_ids = torch::arange(n, torch::kLong);
  return s;
}

}  // namespace

TEST(DistributedSampler, InterleavedShardsCoverEveryRowOnceWhenEven) {
  const auto order = torch::randperm(12, torch::kLong);
  std::multiset<int64_t> seen;
  for (int64_t r = 0; r < 3; ++r) {
    const auto shard = values(shard_order(order, {r, 3, true}));
    ASSERT_EQ(shard.size(), 4u);
    for (size_t i = 0; i < shard.size(); ++i) EXPECT_EQ(shard[i], order[static_cast<int64_t>(i) * 3 + r].item<int64_t>());
    seen.insert(shard.begin(), shard.end());
  }
  const auto all = values(order);
  EXPECT_EQ(seen, std::multiset<int64_t>(all.begin(), all.end()));
}

TEST(DistributedSampler, PaddingRepeatsTheHeadSoEveryRankHasTheSameRows) {
  const auto order = torch::tensor({9, 8, 7, 6, 5}, torch::kLong);
  EXPECT_EQ(shard_rows(5, {0, 2, true}), 3);
  EXPECT_EQ(values(shard_order(order, {0, 2, true})), (std::vector<int64_t>{9, 7, 5}));
  EXPECT_EQ(values(shard_order(order, {1, 2, true})), (std::vector<int64_t>{8, 6, 9}));  // 9 again: the pad
  // More ranks than rows: the order repeats.
  EXPECT_EQ(values(shard_order(torch::tensor({4, 2}, torch::kLong), {2, 3, true})), (std::vector<int64_t>{4}));
}

TEST(DistributedSampler, EvaluationShardsAreNotPadded) {
  const auto order = torch::arange(5, torch::kLong);
  EXPECT_EQ(values(shard_order(order, {0, 2, false})), (std::vector<int64_t>{0, 2, 4}));
  EXPECT_EQ(values(shard_order(order, {1, 2, false})), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(shard_rows(5, {1, 2, false}), 2);
}

TEST(DistributedSampler, TwoRanksWithHalfTheBatchSeeTheGlobalBatchesOfOneRank) {
  LoaderOptions one;
  one.batch_size = 8;
  one.workers.num_workers = 0;
  one.seed = 7;
  Loader single(rows(40), one);
  std::vector<std::unique_ptr<Loader>> ranks;
  for (int64_t r = 0; r < 2; ++r) {
    auto o = one;
    o.batch_size = 4;
    o.shard = {r, 2, true};
    ranks.push_back(std::make_unique<Loader>(rows(40), o));
    EXPECT_EQ(ranks.back()->batches_per_epoch(), single.batches_per_epoch());
  }
  for (int64_t epoch : {0, 3}) {
    auto whole = single.epoch(epoch);
    auto a = ranks[0]->epoch(epoch), b = ranks[1]->epoch(epoch);
    while (auto batch = whole->next()) {
      const auto ids = values(batch->row_ids);
      auto union_ids = values(a->next()->row_ids);
      const auto other = values(b->next()->row_ids);
      union_ids.insert(union_ids.end(), other.begin(), other.end());
      EXPECT_EQ(std::multiset<int64_t>(ids.begin(), ids.end()), std::multiset<int64_t>(union_ids.begin(), union_ids.end()));
    }
    EXPECT_FALSE(a->next());
  }
}

TEST(DistributedSampler, OneRankLeavesTheOrderAlone) {
  const auto order = torch::randperm(7, torch::kLong);
  EXPECT_TRUE(torch::equal(shard_order(order, {0, 1, true}), order));
}
