// Issue 26 item 13: check_system anywhere, memory.csv's clock across --resume, plot_run on a wrong folder,
// no empty run left by a run that fails on its data, predict given a run directory.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

fs::path write_rows(const fs::path& dir) {
  const fs::path csv = dir / "rows.csv";
  std::ofstream out(csv);
  out << "f1,f2,t1\n";
  for (int i = 0; i < 300; ++i) out << std::sin(i * 0.3) << ',' << (i % 7) / 7.0 << ',' << std::cos(i * 0.3) << '\n';
  return csv;
}

std::string csv_yaml(const fs::path& csv, const std::string& targets = "[t1]") {
  return "data:\n  source: csv\n  path: " + csv.string() + "\n  targets: " + targets +
         "\ndescriptors:\n  enabled: false\n";
}

}  // namespace

TEST(SmallFixes, CheckSystemWithoutAConfigWorksOutsideTheRepository) {
  const auto dir = scratch("check_system_elsewhere");
  const auto r = run_in(dir, {"check_system"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("model of the built-in defaults"), std::string::npos) << r.out;
}

TEST(SmallFixes, ResumeContinuesTheMemoryClock) {
  const auto dir = scratch("resume_memory_clock");
  const auto csv = write_rows(dir);
  const auto first = run({"trainer", "--config", tiny_config(dir, csv_yaml(csv)).string()});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const fs::path run_dir = dir / "runs" / "tiny";
  const auto before = read_lines(run_dir / "memory.csv").size();
  const auto resumed = run({"trainer", "--resume", run_dir.string(), "--set", "training.max_epochs=3"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto lines = read_lines(run_dir / "memory.csv");
  ASSERT_GT(lines.size(), before);
  double previous = -1;
  for (size_t i = 1; i < lines.size(); ++i) {
    const double t = std::stod(lines[i].substr(0, lines[i].find(',')));
    EXPECT_GE(t, previous) << "line " << i + 1 << " goes back in time: " << lines[i];
    previous = t;
  }
}

TEST(SmallFixes, PlotRunOnAFolderThatIsNotARunExitsTwo) {
  const auto dir = scratch("plot_run_not_a_run");
  const auto r = run({"plot_run", dir.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("not a run directory"), std::string::npos) << r.err;
}

TEST(SmallFixes, ARunThatFailsOnItsDataLeavesNoDirectorySoTheRetryKeepsItsName) {
  const auto dir = scratch("failed_run_no_dir");
  const auto csv = write_rows(dir);
  const fs::path bad = dir / "bad.csv";
  fs::copy_file(csv, bad);
  std::ofstream(bad, std::ios::app) << "0.5,0.5,\n";  // a missing target: refused while the data is prepared
  const auto failed = run({"trainer", "--config", tiny_config(dir, csv_yaml(bad)).string()});
  EXPECT_EQ(failed.exit_code, 2) << failed.err;
  EXPECT_NE(failed.err.find("bad.csv"), std::string::npos) << failed.err;
  EXPECT_FALSE(fs::exists(dir / "runs" / "tiny")) << "an empty run directory was left behind";
  const auto retry = run({"trainer", "--config", tiny_config(dir, csv_yaml(csv)).string()});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_TRUE(fs::exists(dir / "runs" / "tiny" / "metrics.json"));
  EXPECT_FALSE(fs::exists(dir / "runs" / "tiny-2"));
}

TEST(SmallFixes, PredictGivenARunDirectoryUsesItsBestCheckpoint) {
  const auto dir = scratch("predict_run_dir");
  const auto csv = write_rows(dir);
  ASSERT_EQ(run({"trainer", "--config", tiny_config(dir, csv_yaml(csv)).string()}).exit_code, 0);
  const fs::path run_dir = dir / "runs" / "tiny";
  const auto r = run({"predict", "--checkpoint", run_dir.string(), "--input", csv.string(), "--output",
                      (dir / "p.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("using " + (run_dir / "checkpoints" / "best").string()), std::string::npos) << r.err;
  EXPECT_EQ(read_lines(dir / "p.csv").size(), 301u);
}
