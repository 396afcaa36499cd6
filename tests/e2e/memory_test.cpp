// The monitor inside real runs: a planted validate-phase leak is found and
// named, a clean run of the same length stays silent, a critical RSS level
// stops the run cleanly; memleak_check and check_system as users run them.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/version.h>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

nlohmann::json run_report(const std::string& name, const std::string& extra) {
  const auto dir = scratch(name);
  const auto r = run({"trainer", "--config",
                      tiny_config(dir, "training:\n  max_epochs: 8\n  check_val_every_n_epoch: 1\n"
                                       "  early_stopping: false\nmonitor:\n  warmup_epochs: 2\n" + extra)
                          .string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("memory: "), std::string::npos) << "no verdict line";
  return nlohmann::json::parse(read_text(dir / "runs/tiny/memory_report.json"));
}

}  // namespace

TEST(MemoryInRuns, PlantedValidateLeakIsFlaggedAndNamed) {
  const auto report = run_report("planted_leak", "debug:\n  plant_leak_mb_per_epoch: 4\n");
  ASSERT_FALSE(report["warnings"].empty()) << report.dump(2);
  const std::string warning = report["warnings"][0];
  EXPECT_NE(warning.find("validate grew"), std::string::npos) << warning;
  EXPECT_EQ(report["verdict"], "growing");
  EXPECT_GT(report["growth_mb_per_epoch"].get<double>(), 2.0);
}

TEST(MemoryInRuns, CleanRunOfTheSameLengthStaysSilent) {
  const auto report = run_report("clean_run", "");
  EXPECT_TRUE(report["warnings"].empty()) << report.dump(2);
  EXPECT_EQ(report["verdict"], "flat");
  EXPECT_LT(report["growth_mb_per_epoch"].get<double>(), 1.0);
  EXPECT_TRUE(report["phases"].contains("validate"));
  EXPECT_TRUE(report["phases"].contains("train"));
}

TEST(MemoryInRuns, CriticalRssStopsCleanlyWithACheckpoint) {
  const auto dir = scratch("critical");
  const auto r = run({"trainer", "--config", tiny_config(dir, "monitor:\n  critical_rss_mb: 1\n").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.out.find("stopped: memory alarm"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir / "runs/tiny/checkpoints/last/model.pt"));
  EXPECT_TRUE(fs::exists(dir / "runs/tiny/memory_report.json"));
}

TEST(Tools, MemleakCheckPassesOnAFlatConfigAndFailsOnALeak) {
  const auto dir = scratch("memleak");
  const auto config = tiny_config(dir).string();
  const auto flat = run({"memleak_check", "--config", config, "--cycles", "6", "--max-growth-mb", "1"});
  EXPECT_EQ(flat.exit_code, 0) << flat.out << flat.err;
  EXPECT_NE(flat.out.find("PASS"), std::string::npos) << flat.out;
  const auto leak = run({"memleak_check", "--config", config, "--cycles", "6", "--set",
                         "debug.plant_leak_mb_per_epoch=4"});
  EXPECT_EQ(leak.exit_code, 1) << leak.out << leak.err;
  EXPECT_NE(leak.out.find("FAIL"), std::string::npos) << leak.out;
}

TEST(Tools, MemleakCheckWritesNothingIntoTheWorkingDirectory) {
  // Regression: its descriptor cache went to ./runs/.cache of the current directory although its help says
  // runs go to a temporary directory.
  const auto dir = scratch("memleak_cwd");
  const auto config = tiny_config(dir, "output:\n  dir: runs\n").string();
  const auto r = run_in(dir, {"memleak_check", "--config", config, "--cycles", "3", "--max-growth-mb", "100"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(fs::exists(dir / "runs")) << "memleak_check wrote into its working directory";
}

TEST(Tools, CheckSystemReportsWithoutAGpu) {
  const auto r = run({"check_system"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* line : {"CPU:", "RAM:", "LibTorch:", "BLAS:", "GPUs:", "recommended for the CPU"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
}

// The build a user has: LibTorch's version, whether it is a CUDA build and for which CUDA, and why no
// device is used here.
TEST(Tools, CheckSystemNamesTheLibTorchBuildAndWhyNoDeviceIsUsed) {
  const auto r = run({"check_system"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(std::string("LibTorch: ") + TORCH_VERSION), std::string::npos) << r.out;
  if (SAFETRAIN_TEST_CUDA_BUILD) {
    EXPECT_NE(r.out.find(", CUDA build (CUDA "), std::string::npos) << r.out;
  } else {
    EXPECT_NE(r.out.find(", CPU-only build"), std::string::npos) << r.out;
  }
  if (!torch::cuda::is_available()) {
    EXPECT_NE(r.out.find("CUDA devices: none ("), std::string::npos) << r.out;
    if (SAFETRAIN_TEST_CUDA_BUILD) {
      EXPECT_NE(r.out.find("no driver / no device"), std::string::npos) << r.out;
    }
  }
}

// Regression: a 354-row table was told "batch_size: 256" (two steps per epoch).
TEST(Tools, CheckSystemCapsTheBatchByTheTable) {
  const auto dir = scratch("check_system_rows");
  {
    std::ofstream csv(dir / "small.csv");
    csv << "a,b,y\n";
    for (int i = 0; i < 354; ++i) csv << i % 7 << ',' << i % 3 << ',' << i % 5 << '\n';
  }
  std::ofstream(dir / "small.yaml") << "extends: " << fs::path(SAFETRAIN_SOURCE_DIR) / "configs/quickstart.yaml"
                                    << "\ndata:\n  source: csv\n  path: " << (dir / "small.csv").string()
                                    << "\n  targets: [y]\n";
  const auto r = run({"check_system", "--config", (dir / "small.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const int64_t train_rows = static_cast<int64_t>(354 * 0.8);  // quickstart's data.train_fraction
  EXPECT_NE(r.out.find(std::to_string(train_rows) + " training rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("training.batch_size: " + std::to_string(train_rows / 8) + " "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("capped by the data"), std::string::npos) << r.out;
  const auto flag = run({"check_system", "--rows", "100000"});
  EXPECT_EQ(flag.out.find("capped by the data"), std::string::npos) << flag.out;
}

// A 4 GB Jetson-class board planned from this machine: the recommendation budgets against the
// shared MemAvailable, keeps loader threads off that pool and uses fp16.
TEST(Tools, CheckSystemSizesASharedMemoryBoard) {
  const auto r = run({"check_system", "--integrated-available-mb", "3000"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* line : {"integrated GPU", "3000 MB MemAvailable, shared by CPU and GPU", "training.batch_size:",
                           "training.precision: \"16\"", "data.num_workers: 0"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << r.out;
  }
  EXPECT_NE(run({"check_system", "--integrated-available-mb", "-1"}).exit_code, 0);
}

TEST(Tools, DescriptorPipelineWritesTheSelection) {
  const auto dir = scratch("descriptor_tool");
  std::ofstream csv(dir / "table.csv");
  csv << "a,a_copy,const,b,target\n";
  for (int i = 0; i < 200; ++i) csv << i % 17 << ',' << i % 17 << ",1," << (i * 7) % 13 << ',' << i << '\n';
  csv.close();
  const auto r = run({"descriptor_pipeline", "--input", (dir / "table.csv").string(), "--output-dir",
                      (dir / "out").string(), "--targets", "target", "--checkpoint"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_lines(dir / "out/selected_columns.txt"), (std::vector<std::string>{"a", "b"}));
  const auto report = nlohmann::json::parse(read_text(dir / "out/report.json"));
  EXPECT_EQ(report["columns"].size(), 4u);
  EXPECT_TRUE(fs::exists(dir / "out/checkpoints/pass_1.json"));
}
