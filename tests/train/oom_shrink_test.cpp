// training.on_oom: shrink. An out-of-memory error (injected on the CPU by debug.inject_oom_at_step) halves the
// micro-batch and retries the step; the run finishes on the trajectory of a run started with half the batch and
// twice the accumulation, and the checkpoint keeps the new micro-batch for a resume.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "safetrain/config/loader.hpp"
#include "safetrain/train/session.hpp"

namespace fs = std::filesystem;
using namespace safetrain::train;
namespace config = safetrain::config;

namespace {

config::Config oom_config(const std::string& name, std::vector<config::Override> extra) {
  const fs::path out = fs::path(SAFETRAIN_BINARY_DIR) / "oom-shrink-test" / name;
  fs::remove_all(out);
  // 800 rows: 640 training rows, whole batches of 64 and of 32 (the same rows in the same order).
  std::vector<config::Override> sets = {
      {"output.dir", out.string()},    {"output.run_name", "run"},      {"data.synthetic.rows", "800"},
      {"data.synthetic.descriptor_columns", "0"}, {"data.num_workers", "0"}, {"model.hidden", "32"},
      {"training.threads", "1"},       {"training.early_stopping", "false"}, {"training.max_epochs", "2"},
      {"monitor.enabled", "false"},    {"logging.progress", "off"},     {"descriptors.enabled", "false"},
  };
  sets.insert(sets.end(), extra.begin(), extra.end());
  const auto resolved = config::load_config(fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml", sets);
  return config::make_config(resolved.tree, "test");
}

std::map<std::string, torch::Tensor> weights(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::string, torch::Tensor> out;
  for (const auto& entry : torch::pickle_load(bytes).toGenericDict()) {
    out[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return out;
}

nlohmann::json counters(const fs::path& run) {
  std::ifstream in(run / "checkpoints" / "last" / "state.json");
  return nlohmann::json::parse(in)["components"]["counters"];
}

RunOutcome run(const config::Config& c) {
  SessionOptions options;
  options.write_final_stage = false;  // weights and checkpoints are what these tests read
  TrainingSession session(c, options);
  session.setup();
  return session.run();
}

}  // namespace

TEST(OnOom, ShrinkFinishesOnTheTrajectoryOfHalfTheBatchWithTwiceTheAccumulation) {
  const auto shrunk = run(oom_config("shrunk", {{"training.batch_size", "64"}, {"training.accumulate_grad_batches", "1"},
                                                {"training.on_oom", "shrink"}, {"debug.inject_oom_at_step", "3"}}));
  ASSERT_EQ(shrunk.end, RunEnd::completed);
  const auto planned = run(oom_config("planned", {{"training.batch_size", "32"}, {"training.accumulate_grad_batches", "2"}}));
  ASSERT_EQ(planned.end, RunEnd::completed);
  const auto plain = run(oom_config("plain", {{"training.batch_size", "64"}, {"training.accumulate_grad_batches", "1"}}));
  const auto a = weights(shrunk.run_dir / "checkpoints" / "last" / "model.pt");
  const auto b = weights(planned.run_dir / "checkpoints" / "last" / "model.pt");
  const auto c = weights(plain.run_dir / "checkpoints" / "last" / "model.pt");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    EXPECT_TRUE(torch::allclose(tensor, b.at(name), 1e-4, 1e-5)) << name << " max diff "
                                                                 << (tensor - b.at(name)).abs().max().item<float>();
    EXPECT_TRUE(torch::allclose(tensor, c.at(name), 1e-4, 1e-5)) << name;  // and the uninterrupted run's
  }
  EXPECT_EQ(counters(shrunk.run_dir)["micro_batch"], 32);
  EXPECT_EQ(counters(plain.run_dir)["micro_batch"], 0);
  EXPECT_EQ(counters(shrunk.run_dir)["global_step"], counters(planned.run_dir)["global_step"]);
}

TEST(OnOom, AResumeKeepsTheShrunkMicroBatch) {
  const auto c = oom_config("resume", {{"training.batch_size", "64"}, {"training.max_epochs", "1"},
                                       {"training.on_oom", "shrink"}, {"debug.inject_oom_at_step", "2"}});
  const auto first = run(c);
  ASSERT_EQ(first.end, RunEnd::completed);
  ASSERT_EQ(counters(first.run_dir)["micro_batch"], 32);
  auto more = oom_config("resume-2", {{"training.batch_size", "64"}, {"training.max_epochs", "2"},
                                      {"training.on_oom", "shrink"}});
  SessionOptions options;
  options.write_final_stage = false;
  options.resume = first.run_dir / "checkpoints" / "last";
  TrainingSession session(more, options);
  session.setup();
  const auto resumed = session.run();
  ASSERT_EQ(resumed.end, RunEnd::completed);
  const auto state = counters(resumed.run_dir);
  EXPECT_EQ(state["epochs_completed"], 2);
  EXPECT_EQ(state["micro_batch"], 32);
}

TEST(OnOom, StopOrTheFloorOfOneRowEndsTheRunCleanly) {
  const auto stopped = run(oom_config("stop", {{"training.batch_size", "64"}, {"debug.inject_oom_at_step", "2"}}));
  EXPECT_EQ(stopped.end, RunEnd::out_of_memory);  // training.on_oom: stop (the default)
  const auto floor = run(oom_config("floor", {{"training.batch_size", "1"}, {"training.on_oom", "shrink"},
                                              {"debug.inject_oom_at_step", "2"}, {"data.synthetic.rows", "100"}}));
  EXPECT_EQ(floor.end, RunEnd::out_of_memory);
}

TEST(OnOom, AnOutOfMemoryValidationEvaluatesInPiecesAndTheRunGoesOnUnchanged) {
  const auto shrunk = run(oom_config("eval-shrunk", {{"training.on_oom", "shrink"}, {"debug.inject_eval_oom", "true"}}));
  ASSERT_EQ(shrunk.end, RunEnd::completed);
  const auto plain = run(oom_config("eval-plain", {{"training.on_oom", "shrink"}}));
  // The validation loss decides the best epoch: the same to float rounding, and the training was untouched.
  EXPECT_NEAR(shrunk.best_metric, plain.best_metric, 1e-6 * std::abs(plain.best_metric));
  EXPECT_EQ(counters(shrunk.run_dir)["micro_batch"], 0);
  EXPECT_EQ(counters(shrunk.run_dir)["global_step"], counters(plain.run_dir)["global_step"]);
  // With training.on_oom: stop the same error ends the run cleanly (as an out-of-memory stop), with a checkpoint.
  const auto stopped = run(oom_config("eval-stop", {{"debug.inject_eval_oom", "true"}}));
  EXPECT_EQ(stopped.end, RunEnd::out_of_memory);
  EXPECT_TRUE(fs::exists(stopped.run_dir / "checkpoints" / "last" / "model.pt"));
}
