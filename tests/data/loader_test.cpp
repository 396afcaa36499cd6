#include <gtest/gtest.h>

#include <set>

#include "safetrain/common/error.hpp"
#include "safetrain/data/loader.hpp"

using namespace safetrain::data;

namespace {

SplitTensors rows(int64_t n) {
  auto x = torch::arange(n, torch::kFloat).unsqueeze(1).repeat({1, 3});
  return {x, x.narrow(1, 0, 1).clone(), torch::arange(n, torch::kLong) + 1000};
}

std::vector<int64_t> epoch_ids(const Loader& loader, int64_t epoch) {
  std::vector<int64_t> ids;
  auto pass = loader.epoch(epoch);
  while (auto b = pass->next()) {
    for (int64_t i = 0; i < b->row_ids.size(0); ++i) ids.push_back(b->row_ids[i].item<int64_t>());
    EXPECT_TRUE(torch::equal(b->x.select(1, 0) + 1000, b->row_ids.to(torch::kFloat)));  // rows stay aligned
  }
  return ids;
}

}  // namespace

class LoaderWorkers : public ::testing::TestWithParam<int64_t> {};

TEST_P(LoaderWorkers, EverySampleOncePerEpochReshuffledAndReproducible) {
  LoaderOptions o;
  o.batch_size = 7;
  o.workers.num_workers = GetParam();
  Loader loader(rows(100), o);
  EXPECT_EQ(loader.batches_per_epoch(), 15);
  const auto first = epoch_ids(loader, 0);
  ASSERT_EQ(first.size(), 100u);
  EXPECT_EQ(std::set<int64_t>(first.begin(), first.end()).size(), 100u);
  EXPECT_NE(first, epoch_ids(loader, 1));
  EXPECT_EQ(first, epoch_ids(loader, 0));
}

INSTANTIATE_TEST_SUITE_P(InThreadAndWorkers, LoaderWorkers, ::testing::Values(0, 1, 2));

TEST(Loader, WorkersLiveOnlyDuringAnEpochAndAreCapped) {
  LoaderOptions o;
  o.batch_size = 4;
  o.workers.num_workers = 8;
  o.workers.max_workers = 2;
  Loader loader(rows(64), o);
  EXPECT_EQ(loader.effective_workers(), 2);
  EXPECT_EQ(live_loader_workers(), 0);
  {
    auto pass = loader.epoch(0);
    ASSERT_TRUE(pass->next().has_value());  // abandon the epoch early
    EXPECT_LE(live_loader_workers(), 2);
  }
  EXPECT_EQ(live_loader_workers(), 0);
}

TEST(Loader, BatchesOwnTheirStorageAndDropLastDrops) {
  LoaderOptions o;
  o.batch_size = 8;
  o.shuffle = false;
  o.drop_last = true;
  Loader loader(rows(20), o);
  EXPECT_EQ(loader.batches_per_epoch(), 2);
  auto pass = loader.epoch(0);
  auto b = pass->next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->x.storage().nbytes(), static_cast<size_t>(b->x.numel() * 4));
  EXPECT_EQ(b->row_ids[0].item<int64_t>(), 1000);
  ASSERT_TRUE(pass->next().has_value());
  EXPECT_FALSE(pass->next().has_value());
}

TEST(Loader, BatchOrderDependsOnSeedAndEpochNotOnWorkers) {
  std::vector<std::vector<int64_t>> orders;
  for (int64_t workers : {0, 1, 2}) {
    LoaderOptions o;
    o.batch_size = 5;
    o.workers.num_workers = workers;
    o.workers.prefetch_batches = 1;
    Loader loader(rows(53), o);
    orders.push_back(epoch_ids(loader, 3));
  }
  EXPECT_EQ(orders[0], orders[1]);
  EXPECT_EQ(orders[0], orders[2]);
}

TEST(Loader, PassOutlivingItsLoaderStillServesBatches) {
  LoaderOptions o;
  o.batch_size = 10;
  o.workers.num_workers = 2;
  std::unique_ptr<EpochPass> pass;
  {
    Loader loader(rows(30), o);
    pass = loader.epoch(0);
  }
  int64_t samples = 0;
  while (auto b = pass->next()) samples += b->x.size(0);
  EXPECT_EQ(samples, 30);
  pass.reset();
  EXPECT_EQ(live_loader_workers(), 0);
}

TEST(Loader, RejectsNonPositiveBatchSize) {
  LoaderOptions o;
  o.batch_size = 0;
  EXPECT_THROW(Loader(rows(10), o), safetrain::InputError);
}
