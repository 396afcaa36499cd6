// Bucketed gradient averaging: the plan, one all-reduce per bucket, and the mean over two real Gloo ranks
// (two threads of this process over loopback).
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "../support/free_port.hpp"
#include "safetrain/dist/communicator.hpp"
#include "safetrain/dist/gradient_buckets.hpp"

using namespace safetrain::dist;

namespace {

// A rank of a 2-rank world whose peer always holds `peer_factor` times this rank's tensor.
class ScaledPeer : public Communicator {
 public:
  explicit ScaledPeer(double peer_factor) : factor_(peer_factor) {}
  int rank() const override { return 0; }
  int world_size() const override { return 2; }
  void all_reduce(torch::Tensor& t, Reduce) override {
    sizes.push_back(t.numel());
    t.mul_(1.0 + factor_);
  }
  void broadcast(torch::Tensor&, int) override {}
  std::vector<torch::Tensor> all_gather(const torch::Tensor& t) override { return {t, t}; }
  void barrier() override {}
  void publish(const std::string&, const std::string&) override {}
  std::string fetch(const std::string&, std::chrono::milliseconds) override { return {}; }
  std::vector<int64_t> sizes;

 private:
  double factor_;
};

using safetrain::testing_support::free_port;

std::vector<torch::Tensor> parameters_with_grads(double value) {
  std::vector<torch::Tensor> out;
  for (auto shape : {std::vector<int64_t>{100, 10}, {10}, {300}, {5, 5}}) {
    auto p = torch::zeros(shape, torch::kFloat).requires_grad_();
    p.mutable_grad() = torch::full(shape, value, torch::kFloat);
    out.push_back(p);
  }
  return out;
}

}  // namespace

TEST(GradientBuckets, PlanFillsBucketsUpToTheCap) {
  const auto params = parameters_with_grads(1);
  // 4000 + 40 + 1200 + 100 bytes with a 4096-byte cap: [1000 el + 10 el], [300 el + 25 el].
  const auto plan = plan_buckets(params, 4096);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].size(), 2u);
  EXPECT_EQ(plan[1].size(), 2u);
  EXPECT_EQ(plan[0][1].offset, 1000);
  EXPECT_EQ(plan[1][1].offset, 300);
  // A cap smaller than a parameter: every parameter alone.
  EXPECT_EQ(plan_buckets(params, 16).size(), 4u);
  // A large cap: one bucket.
  EXPECT_EQ(plan_buckets(params, 1 << 20).size(), 1u);
}

TEST(GradientBuckets, OneAllReducePerBucketAndTheMean) {
  auto params = parameters_with_grads(2.0);
  params[1].mutable_grad() = torch::Tensor();  // an unused parameter joins as zeros
  GradientBuckets buckets(params, 4096);
  ScaledPeer peer(3.0);  // the peer's gradients are 3x ours: the mean is 2x ours
  buckets.average(peer);
  EXPECT_EQ(peer.sizes, (std::vector<int64_t>{1010, 325}));
  EXPECT_TRUE(torch::allclose(params[0].grad(), torch::full({100, 10}, 4.0)));
  EXPECT_TRUE(torch::allclose(params[2].grad(), torch::full({300}, 4.0)));
  ASSERT_TRUE(params[1].grad().defined());
  EXPECT_TRUE(torch::allclose(params[1].grad(), torch::zeros({10})));
}

TEST(GradientBuckets, TwoGlooRanksOverLoopbackAverageTheirGradients) {
  const int port = free_port();
  std::vector<std::vector<torch::Tensor>> grads(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.emplace_back([&, r] {
      try {
        ConnectOptions o;
        o.env.rank = r;
        o.env.world_size = 2;
        o.env.master_port = port;
        o.timeout = std::chrono::seconds(20);
        auto communicator = connect(o);
        auto params = parameters_with_grads(r == 0 ? 1.0 : 5.0);
        GradientBuckets buckets(params, 2048);
        buckets.average(*communicator);
        for (const auto& p : params) grads[r].push_back(p.grad().clone());
        auto flag = torch::full({1}, r == 1 ? 7 : 2, torch::kLong);
        communicator->all_reduce(flag, Reduce::max);
        if (flag.item<int64_t>() != 7) errors[r] = "max all-reduce gave " + std::to_string(flag.item<int64_t>());
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  ASSERT_EQ(errors[0], "");
  ASSERT_EQ(errors[1], "");
  for (size_t i = 0; i < grads[0].size(); ++i) {
    EXPECT_TRUE(torch::allclose(grads[0][i], torch::full_like(grads[0][i], 3.0)));
    EXPECT_TRUE(torch::equal(grads[0][i], grads[1][i]));
  }
}

TEST(Communicator, AnUnreachableMasterIsNamedWithinTheTimeout) {
  ConnectOptions o;
  o.env.rank = 1;
  o.env.world_size = 2;
  o.env.master_port = free_port();  // nobody listens
  o.timeout = std::chrono::seconds(2);
  const auto start = std::chrono::steady_clock::now();
  try {
    connect(o);
    FAIL() << "connected to nobody";
  } catch (const DistributedError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("rank 1 of 2"), std::string::npos) << message;
    EXPECT_NE(message.find("127.0.0.1:" + std::to_string(o.env.master_port)), std::string::npos) << message;
    EXPECT_NE(message.find("training.ddp_timeout_s"), std::string::npos) << message;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
}
