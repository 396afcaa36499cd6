// Signals as schedulers and terminals send them: GNU timeout's SIGTERM to the child and then to its
// group is one clean stop (final outputs written), SIGHUP stops cleanly like SIGTERM, and a resumed
// run removes the temporary files a killed writer left in plots/.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

// Starts a long run, waits for its first epoch, sends `signals` back to back; returns the run directory.
fs::path stopped_run(const std::string& name, const std::vector<int>& signals, int expected_exit) {
  const auto dir = scratch(name);
  const auto config = tiny_config(dir, "training:\n  max_epochs: 500\n  threads: 1\ndata:\n  synthetic:\n    rows: 6000\n");
  const int pid = spawn({"trainer", "--config", config.string()}, dir);
  const fs::path run_dir = dir / "runs" / "tiny";
  EXPECT_TRUE(wait_for_epochs(run_dir / "metrics.csv", 1, 120)) << read_text(dir / "stderr.txt");
  for (const int signal : signals) kill(pid, signal);
  EXPECT_EQ(wait_exit(pid), expected_exit) << read_text(dir / "stderr.txt");
  for (const char* file : {"checkpoints/last/model.pt", "predictions/val.csv", "plots/val_scatter_grid.png", "memory_report.json"}) {
    EXPECT_TRUE(fs::exists(run_dir / file)) << file << "\n" << read_text(dir / "stderr.txt");
  }
  return run_dir;
}

}  // namespace

TEST(Signals, TwoSignalsInABurstAreOneCleanStop) {
  stopped_run("signal_burst", {SIGTERM, SIGTERM}, 143);
}

TEST(Signals, HangupStopsCleanlyAndResumeRemovesAbandonedTemporaries) {
  const auto run_dir = stopped_run("signal_hangup", {SIGHUP}, 128 + SIGHUP);
  // What a writer killed between its temporary file and the rename leaves (pid 2^22+1: above pid_max's default).
  std::ofstream(run_dir / "plots" / ".loss.png.tmp.4194305") << "partial";
  const auto resumed = run({"trainer", "--resume", run_dir.string(), "--set", "training.max_epochs=1"});
  EXPECT_FALSE(fs::exists(run_dir / "plots" / ".loss.png.tmp.4194305")) << resumed.err;
}
