#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <fstream>

#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/output_status.hpp"
#include "safetrain/train/callback.hpp"
#include "safetrain/infer/checkpoint.hpp"
#include "safetrain/models/state_dict.hpp"
#include "../support/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::train;
using namespace safetrain::infer;
using safetrain::models::load_state_dict;
using safetrain::models::save_state_dict;

namespace {

struct Net : torch::nn::Module {
  Net(int64_t in, int64_t out) { fc = register_module("fc", torch::nn::Linear(in, out)); }
  torch::nn::Linear fc{nullptr};
};

fs::path fresh_dir(const std::string& name) {
  return safetrain::testing_support::scratch_dir("checkpoint_test/" + name);
}

CheckpointWrite contents_for(const Net& net, torch::optim::Optimizer* optimizer, int64_t epochs) {
  CheckpointWrite c;
  c.model = &net;
  c.optimizer = optimizer;
  c.scaling = {torch::zeros({3}), torch::ones({3}), torch::zeros({2}), torch::ones({2})};
  Counters counters;
  counters.epochs_completed = epochs;
  counters.global_step = 10 * epochs;
  c.components["counters"] = counters.state_dict();
  c.components["checkpoint"] = {{"best", {{"best", 0.25}, {"bad_checks", 0}}}, {"best_epoch", epochs}};
  c.components["grad_scaler"] = {{"scale", 512.0}, {"growth_tracker", 0}, {"skipped_steps", 0}};
  c.components["data"] = {{"feature_names", {"a", "b", "c"}}, {"target_names", {"x", "y"}}};
  c.components["model"] = {{"type", "mlp"}};
  c.config_yaml = "seed: 1\n";
  return c;
}

}  // namespace

TEST(Checkpoint, RoundTripsWeightsOptimizerStateAndCounters) {
  const auto dir = fresh_dir("roundtrip") / "last";
  Net net(3, 2);
  torch::optim::Adam optimizer(net.parameters(), torch::optim::AdamOptions(0.01));
  net.fc(torch::randn({4, 3})).sum().backward();
  optimizer.step();
  save_checkpoint(dir, contents_for(net, &optimizer, 3));

  Net other(3, 2);
  EXPECT_TRUE(load_state_dict(other, dir / "model.pt", true).clean());
  EXPECT_TRUE(torch::equal(other.fc->weight, net.fc->weight));
  torch::optim::Adam other_optimizer(other.parameters(), torch::optim::AdamOptions(0.01));
  load_optimizer_state(dir, other_optimizer);
  const auto meta = read_checkpoint_meta(dir);
  EXPECT_EQ(meta.epochs_completed(), 3);
  EXPECT_EQ(meta.component("counters")["global_step"], 30);
  EXPECT_DOUBLE_EQ(meta.component("checkpoint")["best"]["best"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(meta.component("grad_scaler")["scale"].get<double>(), 512.0);
  EXPECT_EQ(meta.target_names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(meta.config_yaml, "seed: 1\n");
  EXPECT_TRUE(torch::equal(read_scaling(dir).feature_std, torch::ones({3})));
}

TEST(Checkpoint, ReplacingLeavesOneCompleteDirectoryAndNoStaging) {
  const auto root = fresh_dir("replace");
  Net net(3, 2);
  save_checkpoint(root / "last", contents_for(net, nullptr, 1));
  save_checkpoint(root / "last", contents_for(net, nullptr, 2));
  EXPECT_EQ(read_checkpoint_meta(root / "last").epochs_completed(), 2);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(root)) ++entries;
  EXPECT_EQ(entries, 1);  // no .partial or .old left behind
}

// Full disk while writing each file of the checkpoint in turn: a DiskFullError naming the file
// (LibTorch's own file writer used to abort the process from a destructor here), the previous
// checkpoint intact and loadable, no staging directory left.
TEST(Checkpoint, FullDiskKeepsThePreviousCheckpointAndRemovesTheStaging) {
  for (const char* failing : {"model.pt", "optimizer.pt", "scaling.pt", "rng.pt", "state.json", "config.yaml"}) {
    SCOPED_TRACE(failing);
    const auto root = fresh_dir(std::string("full_") + failing);
    Net net(3, 2);
    torch::optim::Adam optimizer(net.parameters(), torch::optim::AdamOptions(0.01));
    save_checkpoint(root / "last", contents_for(net, &optimizer, 1));
    inject_write_fault(WriteFault{ENOSPC, 7, failing});
    try {
      save_checkpoint(root / "last", contents_for(net, &optimizer, 2));
      ADD_FAILURE() << "expected DiskFullError";
    } catch (const DiskFullError& e) {
      EXPECT_NE(std::string(e.what()).find("disk full at " + root.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(failing), std::string::npos) << e.what();
    }
    inject_write_fault(std::nullopt);
    reset_output_write_failures();
    EXPECT_EQ(read_checkpoint_meta(root / "last").epochs_completed(), 1);
    Net other(3, 2);
    EXPECT_TRUE(load_state_dict(other, root / "last" / "model.pt", true).clean());
    torch::optim::Adam other_optimizer(other.parameters(), torch::optim::AdamOptions(0.01));
    load_optimizer_state(root / "last", other_optimizer);
    EXPECT_FALSE(fs::exists(root / ".last.partial"));
  }
}

TEST(Checkpoint, CorruptOrMissingFilesAreInputErrors) {
  const auto dir = fresh_dir("corrupt") / "best";
  Net net(3, 2);
  save_checkpoint(dir, contents_for(net, nullptr, 1));
  std::ofstream(dir / "model.pt", std::ios::trunc) << "garbage";
  EXPECT_THROW(load_state_dict(net, dir / "model.pt", true), InputError);
  std::ofstream(dir / "state.json", std::ios::trunc) << "{\"format\": ";
  EXPECT_THROW(read_checkpoint_meta(dir), InputError);
  EXPECT_THROW(read_checkpoint_meta(dir.parent_path() / "nope"), InputError);
}

TEST(StateDict, MisShapedWeightsAreRefusedStrictOrNot) {
  const auto dir = fresh_dir("strict");
  Net small(3, 2);
  save_state_dict(small, dir / "model.pt");
  Net wider(3, 5);  // fc.weight [5,3] and fc.bias [5]: mis-shaped
  for (const bool strict : {true, false}) {
    try {
      load_state_dict(wider, dir / "model.pt", strict);
      FAIL() << "a load of mis-shaped weights must throw (strict " << strict << ")";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("fc.weight"), std::string::npos) << e.what();
    }
  }
}

TEST(StateDict, NonStrictLoadsWhatMatchesAndReportsMissingNames) {
  const auto dir = fresh_dir("non_strict");
  torch::nn::Linear only(3, 2);
  save_state_dict(*only, dir / "model.pt");  // "weight", "bias": none of Net's "fc.*" names
  Net net(3, 2);
  EXPECT_THROW(load_state_dict(net, dir / "model.pt", true), InputError);
  const auto report = load_state_dict(net, dir / "model.pt", false);
  EXPECT_EQ(report.missing.size(), 2u);
  EXPECT_EQ(report.unexpected.size(), 2u);
  EXPECT_TRUE(report.mismatched.empty());
}

TEST(Checkpoint, EachPartSavesItselfAsANamedComponent) {
  const auto dir = fresh_dir("components") / "last";
  Net net(3, 2);
  auto contents = contents_for(net, nullptr, 1);
  contents.components["my_logger"] = {{"lines", 7}};  // a new stateful callback needs no change here
  save_checkpoint(dir, contents);
  const auto meta = read_checkpoint_meta(dir);
  EXPECT_EQ(meta.component("my_logger")["lines"], 7);
  EXPECT_THROW(meta.component("absent"), InputError);
}

TEST(Checkpoint, PreviousFormatIsRefusedNamingItsVersion) {
  const auto dir = fresh_dir("format1") / "last";
  Net net(3, 2);
  save_checkpoint(dir, contents_for(net, nullptr, 1));
  std::ofstream(dir / "state.json", std::ios::trunc) << R"({"format": "safetrain-checkpoint-1", "epochs_completed": 1})";
  try {
    read_checkpoint_meta(dir);
    FAIL() << "a format-1 checkpoint must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("format version 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("state.json"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, FlippedBytesInAnyFileAreACorruptCheckpointNotOtherPredictions) {
  // Regression: 64 flipped bytes inside model.pt gave different predictions with exit 0.
  const auto dir = fresh_dir("flipped") / "best";
  Net net(3, 2);
  save_checkpoint(dir, contents_for(net, nullptr, 1));
  EXPECT_NO_THROW(read_checkpoint_meta(dir));
  {
    std::fstream file(dir / "model.pt", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(dir / "model.pt") / 2));
    const std::string flipped(64, '\x5a');
    file.write(flipped.data(), static_cast<std::streamsize>(flipped.size()));
  }
  try {
    read_checkpoint_meta(dir);
    FAIL() << "a changed model.pt must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model.pt: checksum mismatch"), std::string::npos) << e.what();
  }
}
