// The trainer as a user runs it: --help, bad configs, a short run's files.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

TEST(TrainerCli, HelpDocumentsEveryFlag) {
  const auto r = run({"trainer", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--config", "--set", "--resume", "--print-config", "Exit codes"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

TEST(TrainerCli, PrintConfigShowsOverriddenValueAndExits) {
  const auto r = run({"trainer", "--config", "configs/quickstart.yaml", "--set", "training.max_epochs=7",
                      "--print-config"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("max_epochs: 7"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("type: mlp"), std::string::npos);
}

TEST(TrainerCli, PrintConfigShowsTheValuesTheRunUsesAfterTheCrossKeyRules) {
  // Regression: --print-config echoed the merged YAML ("batch_size: 010" while the run used 10) and
  // skipped the rules spanning keys, so a config it printed happily could fail at once in a run.
  const auto dir = scratch("print_config_typed");
  const auto leading_zero = dir / "leading_zero.yaml";
  std::ofstream(leading_zero) << "extends: " << fs::path(SAFETRAIN_SOURCE_DIR) / "configs/quickstart.yaml"
                              << "\ntraining:\n  batch_size: 010\n";
  const auto printed = run({"trainer", "--config", leading_zero.string(), "--print-config"});
  EXPECT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_NE(printed.out.find("  batch_size: 10\n"), std::string::npos) << printed.out;
  EXPECT_EQ(printed.out.find("010"), std::string::npos) << printed.out;
  const auto synthetic_with_path = dir / "synthetic_with_path.yaml";  // a cross-key rule's refusal
  std::ofstream(synthetic_with_path) << "extends: " << fs::path(SAFETRAIN_SOURCE_DIR) / "configs/quickstart.yaml"
                                     << "\ndata:\n  source: synthetic\n  path: rows.csv\n";
  const auto refused = run({"trainer", "--config", synthetic_with_path.string(), "--print-config"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out;
  EXPECT_NE(refused.err.find("data.source"), std::string::npos) << refused.err;
}

struct BadConfig {
  const char* name;
  const char* yaml;
  const char* expected;  // must appear in the one-line error
};

class TrainerBadConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(TrainerBadConfig, OneLineErrorNamingFileKeyAndLineExitTwo) {
  const auto& c = GetParam();
  const auto dir = scratch(std::string("bad_") + c.name);
  const auto file = dir / (std::string(c.name) + ".yaml");
  std::ofstream(file) << c.yaml;
  const auto r = run({"trainer", "--config", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(file.filename().string()), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not one line: " << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, TrainerBadConfig,
    ::testing::Values(BadConfig{"unknown_key", "training:\n  max_epoch: 3\n", "training.max_epoch"},
                      BadConfig{"wrong_type", "training:\n  lr: fast\n", "training.lr"},
                      BadConfig{"negative_batch", "training:\n  batch_size: -4\n", "negative_batch.yaml:2"},
                      BadConfig{"malformed", "training: {batch_size: 4\n", "malformed.yaml"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(TrainerCli, CommandLineMistakesExitTwoLikeEveryInputError) {
  // Regression: CLI11's own codes leaked out (109 for an unknown flag, 114 for a missing required option).
  for (const auto& args : std::vector<std::vector<std::string>>{{"trainer", "--no-such-flag"},
                                                              {"predict", "--input", "x.csv"},
                                                              {"descriptor_pipeline", "--input"},
                                                              {"plot_run"}}) {
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1 % args.size()] << ": " << r.err;
  }
  EXPECT_EQ(run({"trainer", "--help"}).exit_code, 0);
}

TEST(TrainerCli, MissingConfigFileExitsTwo) {
  const auto r = run({"trainer", "--config", "configs/does_not_exist.yaml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("configs/does_not_exist.yaml"), std::string::npos) << r.err;
}

TEST(TrainerRun, TwoEpochsWriteEveryOutput) {
  const auto dir = scratch("two_epochs");
  const auto r = run({"trainer", "--config", tiny_config(dir).string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path run_dir = dir / "runs" / "tiny";
  EXPECT_NE(r.out.find("safetrain: completed after 2 epochs"), std::string::npos) << r.out;
  for (const char* file : {"config.yaml", "metrics.csv", "memory.csv", "memory_report.json", "metrics.json",
                           "checkpoints/last/model.pt", "checkpoints/best/state.json", "predictions/val.csv",
                           "predictions/test.csv", "plots/loss.png", "plots/val_scatter_grid.png",
                           "plots/memory.png", "importance.csv", "plots/importance.png"}) {
    EXPECT_TRUE(fs::exists(run_dir / file)) << file;
  }
  EXPECT_EQ(read_lines(run_dir / "importance.csv").at(0), "feature,importance_mean,importance_std");
  const auto metrics = read_lines(run_dir / "metrics.csv");
  ASSERT_EQ(metrics.size(), 3u);
  EXPECT_EQ(metrics[0].rfind("epoch,train_loss,val_loss,val_mae,val_r2,lr,grad_norm,seconds,samples_per_s,rss_mb,"
                             "val_mae_x,",
                             0),
            0u)
      << metrics[0];
  const auto report = nlohmann::json::parse(read_text(run_dir / "memory_report.json"));
  EXPECT_TRUE(report.contains("verdict"));
  const auto summary = nlohmann::json::parse(read_text(run_dir / "metrics.json"));
  EXPECT_GT(summary["test"]["count"].get<int64_t>(), 0);
  // features.json lists the features used and the pruner's verdict per column; config.yaml names them.
  const auto features = nlohmann::json::parse(read_text(run_dir / "features.json"));
  ASSERT_FALSE(features["features"].empty());
  EXPECT_EQ(features["selected_by"], "descriptor pipeline");
  EXPECT_FALSE(features["pruner_decisions"].empty());
  EXPECT_EQ(read_text(run_dir / "config.yaml").find("features: []"), std::string::npos);
  EXPECT_NE(read_text(run_dir / "config.yaml").find(features["features"][0].get<std::string>()), std::string::npos);
  // Issue 27 item 4: config.yaml is written from the typed config after the features are adopted: it lists all of
  // them, in order, and each checkpoint saves the same text.
  std::string listed;
  for (const auto& name : features["features"]) listed += (listed.empty() ? "" : ", ") + name.get<std::string>();
  EXPECT_NE(read_text(run_dir / "config.yaml").find("\n  features: [" + listed + "]\n"), std::string::npos)
      << read_text(run_dir / "config.yaml");
  EXPECT_EQ(read_text(run_dir / "checkpoints/last/config.yaml"), read_text(run_dir / "config.yaml"));
}

TEST(TrainerRun, ImportanceFollowsItsConfigSection) {
  const auto dir = scratch("importance_keys");
  const auto sampled = run({"trainer", "--config", tiny_config(dir).string(), "--set", "training.max_epochs=1",
                            "--set", "importance.max_rows=50", "--set", "importance.repeats=2", "--set",
                            "importance.batch_rows=20"});
  ASSERT_EQ(sampled.exit_code, 0) << sampled.err;
  EXPECT_NE(sampled.err.find(" validation rows x 2 shuffles, batches of <= 20 rows"), std::string::npos) << sampled.err;
  EXPECT_NE(sampled.err.find("features, 50 validation rows"), std::string::npos) << sampled.err;
  EXPECT_TRUE(fs::exists(dir / "runs" / "tiny" / "importance.csv"));
  const auto off = run({"trainer", "--config", tiny_config(dir).string(), "--set", "training.max_epochs=1", "--set",
                        "importance.enabled=false", "--set", "output.run_name=off"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_FALSE(fs::exists(dir / "runs" / "off" / "importance.csv"));
  EXPECT_FALSE(fs::exists(dir / "runs" / "off" / "plots" / "importance.png"));
}

TEST(TrainerRun, ImpossibleFreeMemoryRequirementIsRefusedWithAdvice) {
  const auto dir = scratch("refused");
  const auto r = run({"trainer", "--config", tiny_config(dir).string(), "--set", "memory.min_free_mb=100000000"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // Refused by the forecast before loading: the first phase that does not fit, the reserve that takes the
  // room, and what to lower.
  EXPECT_NE(r.err.find("memory forecast: the load phase needs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("memory.min_free_mb keeps"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("lower data.storage: mmap"), std::string::npos) << r.err;
}

TEST(TrainerRun, RunsWithPassiveOpenMpWaitPolicy) {
  // Regression: spinning OpenMP threads made 2-thread training 60-100x slower on a busy 2-core machine.
  ASSERT_EQ(std::getenv("OMP_WAIT_POLICY"), nullptr) << "run the suite without OMP_WAIT_POLICY set";
  const auto dir = scratch("omp_policy");
  // spawn, not run: run() sets the policy itself; here the trainer must re-exec to get it.
  const int pid = spawn({"trainer", "--config", tiny_config(dir, "training:\n  max_epochs: 1\n").string()}, dir);
  EXPECT_EQ(wait_exit(pid), 0) << read_text(dir / "stderr.txt");
  EXPECT_NE(read_text(dir / "stderr.txt").find("OMP_WAIT_POLICY=PASSIVE"), std::string::npos);
}

TEST(TrainerRun, Bf16UsesCpuAutocastAnd16FallsBackTo32) {
  const auto dir = scratch("precision");
  const auto bf16 = run({"trainer", "--config", tiny_config(dir, "training:\n  max_epochs: 1\n").string(), "--set",
                         "training.precision=bf16"});
  EXPECT_EQ(bf16.exit_code, 0) << bf16.err;
  EXPECT_NE(bf16.err.find("CPU autocast to bfloat16"), std::string::npos) << bf16.err;
  const auto fp16 = run({"trainer", "--config", tiny_config(dir, "training:\n  max_epochs: 1\n").string(), "--set",
                         "training.precision=16", "--set", "output.run_name=fp16"});
  EXPECT_EQ(fp16.exit_code, 0) << fp16.err;
  EXPECT_NE(fp16.err.find("training in fp32 instead"), std::string::npos) << fp16.err;
}
