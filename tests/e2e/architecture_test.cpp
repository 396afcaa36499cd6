// One declaration per option and one final-stage path, seen from the command line.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

TEST(FinalStage, PlotRunOnATrainerRunUsesTheExactMetricsAndEpoch) {
  // Regression: the trainer wrote RUN_DIR/metrics.json but plot_run read RUN_DIR/predictions/metrics.json,
  // so plot_run titled a trainer run's plots with metrics recomputed from the kept sample.
  const auto dir = scratch("plot_run_exact");
  const auto trained = run({"trainer", "--config", tiny_config(dir, "training:\n  check_val_every_n_epoch: 1\n").string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const fs::path run_dir = dir / "runs" / "tiny";
  const auto metrics = nlohmann::json::parse(read_text(run_dir / "metrics.json"));
  EXPECT_EQ(metrics["val"]["epoch"], 2);
  const auto redrawn = run({"plot_run", run_dir.string()});
  ASSERT_EQ(redrawn.exit_code, 0) << redrawn.err;
  EXPECT_NE(redrawn.err.find("val titles from the exact metrics of epoch 2 in metrics.json"), std::string::npos)
      << redrawn.err;
  EXPECT_NE(redrawn.err.find("test titles from the exact metrics of epoch"), std::string::npos) << redrawn.err;
  EXPECT_NE(trained.err.find("val titles from the exact metrics of epoch 2"), std::string::npos) << trained.err;
}

TEST(DescriptorPipeline, PrunesTheSameFromAnyWorkingDirectoryWithTheTrainersDefaults) {
  // Regression: run from the repository root the tool read ./configs/safe_training.yaml, elsewhere it used
  // its own defaults (HSIC sample 1000 vs 512): different columns kept on the same table.
  const auto dir = scratch("descriptor_cwd");
  const auto input = fs::path(SAFETRAIN_TEST_DATA_DIR) / "descriptors" / "redundant_a.csv";
  const auto from_root = run({"descriptor_pipeline", "--input", input.string(), "--output-dir",
                              (dir / "root").string(), "--targets", "target"});
  ASSERT_EQ(from_root.exit_code, 0) << from_root.err;
  const auto elsewhere = run_in(dir, {"descriptor_pipeline", "--input", input.string(), "--output-dir",
                                      (dir / "elsewhere").string(), "--targets", "target"});
  ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.err;
  EXPECT_EQ(read_text(dir / "root" / "selected_columns.txt"), read_text(dir / "elsewhere" / "selected_columns.txt"));
  const auto a = nlohmann::json::parse(read_text(dir / "root" / "report.json"));
  const auto b = nlohmann::json::parse(read_text(dir / "elsewhere" / "report.json"));
  EXPECT_EQ(a["settings"], b["settings"]);
  EXPECT_EQ(a["settings"]["hsic_sample_rows"], 512);  // the trainer's default
  EXPECT_EQ(a["settings"]["batch_rows"], 8192);
}

TEST(DescriptorPipeline, TakesTheTargetPrefixLikeTheTrainerAndItsConfigSettings) {
  const auto dir = scratch("descriptor_config");
  const auto input = fs::path(SAFETRAIN_TEST_DATA_DIR) / "descriptors" / "redundant_a.csv";
  std::ofstream(dir / "c.yaml") << "data:\n  targets: targ\ndescriptors:\n  rdc: false\n  hsic_sample_rows: 100\n";
  const auto r = run_in(dir, {"descriptor_pipeline", "--config", (dir / "c.yaml").string(), "--input",
                              input.string(), "--output-dir", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(read_text(dir / "out" / "report.json"));
  EXPECT_EQ(report["settings"]["rdc"], false);
  EXPECT_EQ(report["settings"]["hsic_sample_rows"], 100);
  const auto selected = read_text(dir / "out" / "selected_columns.txt");
  EXPECT_EQ(selected.find("target"), std::string::npos) << "the target is not a feature: " << selected;
  const auto bad = run_in(dir, {"descriptor_pipeline", "--input", input.string(), "--output-dir",
                                (dir / "bad").string(), "--set", "descriptors.leiden_resolution=0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("descriptors.leiden_resolution"), std::string::npos) << bad.err;
}

TEST(DescriptorPipeline, SigintBetweenPassesStopsAtOnceWithExit130) {
  // Regression: the tool had no SIGINT handling: it died with no message (or ran to its end).
  const auto dir = scratch("descriptor_sigint");
  {
    std::ofstream out(dir / "wide.csv");
    for (int c = 0; c < 300; ++c) out << "d" << c << ",";
    out << "target\n";
    for (int r = 0; r < 4000; ++r) {
      const double base = std::sin(r * 0.37) + 0.001 * r;
      for (int c = 0; c < 300; ++c) out << base * (1 + c % 7) + std::cos(r * (0.11 + 0.013 * c)) << ",";
      out << base << "\n";
    }
  }
  const int pid = spawn({"descriptor_pipeline", "--input", (dir / "wide.csv").string(), "--output-dir",
                         (dir / "out").string(), "--targets", "target"},
                        dir);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (read_text(dir / "stdout.txt").find("pass 1") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130) << read_text(dir / "stderr.txt");
  EXPECT_NE(read_text(dir / "stderr.txt").find("stopped by SIGINT"), std::string::npos) << read_text(dir / "stderr.txt");
  EXPECT_FALSE(fs::exists(dir / "out" / "report.json"));
}
