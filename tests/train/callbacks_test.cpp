// The built-in callbacks on their own, and a user callback inside a real session.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "safetrain/config/loader.hpp"
#include "safetrain/train/callbacks.hpp"
#include "safetrain/train/session.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::train;

namespace {

struct FakeRun {
  config::Config config;
  RunLayout layout{fs::temp_directory_path() / "unused"};
  torch::nn::Linear model{2, 1};
  Counters counters;
  std::vector<fs::path> saved;
  FitContext context{config, layout, nullptr, *model, torch::kCPU, counters,
                     [this](const fs::path& dir) { saved.push_back(dir); }, {"y"}};
};

EpochRecord epoch_with(int64_t epoch, double monitored) {
  EpochRecord r;
  r.epoch = epoch;
  r.monitored = monitored;
  return r;
}

class StopWith : public Callback {
 public:
  explicit StopWith(RunEnd end) : end_(end) {}
  std::string name() const override { return "stop_with"; }
  std::optional<RunEnd> should_stop() const override { return end_; }

 private:
  RunEnd end_;
};

}  // namespace

TEST(CheckpointCallback, BestHonoursMinDeltaLikeEarlyStopping) {
  // Regression: the best checkpoint was chosen by a third tracker that ignored training.min_delta.
  FakeRun run;
  CheckpointCallback checkpoints(/*min_delta=*/0.01);
  auto first = epoch_with(1, 1.0);
  checkpoints.on_train_epoch_end(run.context, first);
  auto tiny_gain = epoch_with(2, 0.995);
  checkpoints.on_train_epoch_end(run.context, tiny_gain);
  auto real_gain = epoch_with(3, 0.9);
  checkpoints.on_train_epoch_end(run.context, real_gain);
  const std::vector<fs::path> expected = {run.layout.last_checkpoint(), run.layout.best_checkpoint(),
                                          run.layout.last_checkpoint(), run.layout.last_checkpoint(),
                                          run.layout.best_checkpoint()};
  EXPECT_EQ(run.saved, expected);
  EXPECT_EQ(checkpoints.best_epoch(), 3);
  CheckpointCallback restored(0.01);
  restored.load_state_dict(checkpoints.state_dict());
  EXPECT_EQ(restored.best_epoch(), 3);
  EXPECT_DOUBLE_EQ(restored.best_metric(), 0.9);
}

TEST(CallbackList, AResourceStopOutranksEarlyStopping) {
  CallbackList list;
  list.add(std::make_unique<StopWith>(RunEnd::early_stopped));
  list.add(std::make_unique<StopWith>(RunEnd::memory_alarm));
  EXPECT_EQ(list.should_stop(), RunEnd::memory_alarm);
  CallbackList none;
  EXPECT_FALSE(none.should_stop());
}

TEST(EarlyStoppingCallback, RequestsAStopAfterPatienceAndResumesItsCount) {
  FakeRun run;
  run.config.training.patience = 2;
  EarlyStoppingCallback early(run.config.training);
  for (const double value : {1.0, 1.1}) {
    auto r = epoch_with(1, value);
    early.on_train_epoch_end(run.context, r);
  }
  EXPECT_FALSE(early.should_stop());
  EarlyStoppingCallback resumed(run.config.training);
  resumed.load_state_dict(early.state_dict());
  auto worse = epoch_with(3, 1.2);
  resumed.on_train_epoch_end(run.context, worse);
  EXPECT_EQ(resumed.should_stop(), RunEnd::early_stopped);
}

namespace {

class HookRecorder : public Callback {
 public:
  explicit HookRecorder(std::vector<std::string>& log) : log_(log) {}
  std::string name() const override { return "recorder"; }
  void on_fit_start(FitContext&) override { log_.push_back("fit_start"); }
  void on_train_epoch_start(FitContext&, EpochRecord&) override { log_.push_back("epoch_start"); }
  void on_train_batch_end(FitContext&, const BatchEnd&) override {
    if (log_.back() != "batch") log_.push_back("batch");
  }
  void on_train_end(FitContext&, EpochRecord&) override { log_.push_back("train_end"); }
  void on_validation_start(FitContext&) override { log_.push_back("val_start"); }
  void on_validation_end(FitContext&, EpochRecord&) override { log_.push_back("val_end"); }
  void on_train_epoch_end(FitContext&, EpochRecord& r) override {
    log_.push_back("epoch_end grad_norm=" + std::string(r.metrics.get(metric::kGradNorm) ? "yes" : "no"));
  }
  void on_test_start(FitContext&) override { log_.push_back("test_start"); }
  void on_test_end(FitContext&) override { log_.push_back("test_end"); }
  void on_fit_end(FitContext&, RunEnd end) override { log_.push_back(std::string("fit_end ") + run_end_name(end)); }

 private:
  std::vector<std::string>& log_;
};

}  // namespace

TEST(Session, AUserCallbackSeesEveryHookInOrderAndGradNormIsLogged) {
  const fs::path out = fs::path(SAFETRAIN_BINARY_DIR) / "callbacks-test";
  fs::remove_all(out);
  const auto resolved = config::load_config(
      fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml",
      {{"output.dir", out.string()}, {"output.run_name", "run"}, {"data.synthetic.rows", "600"},
       {"data.synthetic.descriptor_columns", "4"}, {"model.hidden", "16"}, {"training.max_epochs", "2"},
       {"training.check_val_every_n_epoch", "2"}, {"training.threads", "1"}, {"logging.progress", "off"},
       {"monitor.enabled", "false"}});
  TrainingSession session(config::make_config(resolved.tree, "test"), {});
  session.setup();
  std::vector<std::string> log;
  session.add_callback(std::make_unique<HookRecorder>(log));
  const auto outcome = session.run();
  EXPECT_EQ(outcome.end, RunEnd::completed);
  const std::vector<std::string> expected = {
      "fit_start",  "epoch_start", "batch",  "train_end", "epoch_end grad_norm=yes",            // epoch 1: no validation
      "epoch_start", "batch",      "train_end", "val_start", "val_end", "epoch_end grad_norm=yes",  // epoch 2
      "test_start", "test_end",    "fit_end completed"};
  EXPECT_EQ(log, expected);
  std::ifstream csv(outcome.run_dir / "metrics.csv");
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  // The fixed columns, then each target's validation MAE and R² (the synthetic arm's six targets).
  std::string expected_header = "epoch,train_loss,val_loss,val_mae,val_r2,lr,grad_norm,seconds,samples_per_s,rss_mb";
  for (const char* figure : {"val_mae_", "val_r2_"}) {
    for (const char* t : {"x", "y", "z", "roll", "pitch", "yaw"}) expected_header += std::string(",") + figure + t;
  }
  // Then the figures logged beyond those, in the order they first appear: the loop's loader wait.
  expected_header += ",loader_wait_fraction";
  EXPECT_EQ(header, expected_header);
  EXPECT_EQ(std::count(row.begin(), row.end(), ','), 9 + 12 + 1) << row;
  const auto cells = [&] {
    std::vector<std::string> out;
    std::stringstream in(row);
    for (std::string cell; std::getline(in, cell, ',');) out.push_back(cell);
    return out;
  }();
  ASSERT_GE(cells.size(), 7u);
  EXPECT_TRUE(cells[2].empty() && cells[3].empty() && cells[4].empty()) << row;  // no validation in epoch 1
  EXPECT_GT(std::stod(cells[6]), 0.0) << row;                                    // grad_norm
}

// Issue 26 item 12: checkpoints/last every N epochs, after the final one, and caught up on a stop between epochs.
TEST(CheckpointCallback, LastEveryNEpochsAndAfterTheFinalOne) {
  FakeRun run;
  CheckpointCallback checkpoints(/*min_delta=*/0.0, /*every_n_epochs=*/3, /*max_epochs=*/7);
  const auto last = run.layout.last_checkpoint(), best = run.layout.best_checkpoint();
  for (int64_t epoch = 1; epoch <= 7; ++epoch) {
    run.counters.epochs_completed = epoch;
    auto record = epoch_with(epoch, epoch == 1 ? 1.0 : 2.0);  // only epoch 1 improves
    checkpoints.on_train_epoch_end(run.context, record);
  }
  EXPECT_EQ(run.saved, (std::vector<fs::path>{best, last, last, last}));  // best@1, last@3, @6, @7 (the final)
  EXPECT_EQ(checkpoints.last_epoch_written(), 7);
  checkpoints.catch_up(run.context);  // nothing behind
  EXPECT_EQ(run.saved.size(), 4u);
}

TEST(CheckpointCallback, CatchUpWritesLastWhenTheRunStopsOffTheGrid) {
  FakeRun run;
  CheckpointCallback checkpoints(/*min_delta=*/0.0, /*every_n_epochs=*/5, /*max_epochs=*/50);
  for (int64_t epoch = 1; epoch <= 2; ++epoch) {
    run.counters.epochs_completed = epoch;
    auto record = epoch_with(epoch, 1.0);
    checkpoints.on_train_epoch_end(run.context, record);
  }
  EXPECT_EQ(run.saved, (std::vector<fs::path>{run.layout.best_checkpoint()}));
  checkpoints.catch_up(run.context);  // early stopping after epoch 2
  EXPECT_EQ(run.saved.back(), run.layout.last_checkpoint());
  EXPECT_EQ(checkpoints.last_epoch_written(), 2);
}
