// Data-parallel training end to end: two trainer ranks over loopback Gloo, started the way the README's
// shell loop starts them (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "../support/free_port.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

using safetrain::testing_support::free_port;

// Deterministic on CPU: one thread, in-thread loading, no dropout; windows of two batches.
fs::path ddp_config(const fs::path& dir, const std::string& extra = "", int max_epochs = 3, int timeout_s = 20) {
  return tiny_config(dir, "data:\n  num_workers: 0\ntraining:\n  threads: 1\n  early_stopping: false\n"
                          "  accumulate_grad_batches: 2\n  max_epochs: " + std::to_string(max_epochs) +
                          "\n  ddp_timeout_s: " + std::to_string(timeout_s) + "\n" + extra);
}

struct Ranks {
  std::vector<int> pids;
  std::vector<fs::path> dirs;  // stdout.txt / stderr.txt of each rank
};

// `rank_args[r]`, when given, is appended to rank r's command line only.
Ranks start_ranks(const fs::path& dir, int world, const std::vector<std::string>& args,
                  const std::vector<std::vector<std::string>>& rank_args = {}) {
  Ranks ranks;
  const std::string port = std::to_string(free_port());
  for (int r = 0; r < world; ++r) {
    ranks.dirs.push_back(dir / ("rank" + std::to_string(r)));
    fs::create_directories(ranks.dirs.back());
    auto own = args;
    if (static_cast<size_t>(r) < rank_args.size()) own.insert(own.end(), rank_args[r].begin(), rank_args[r].end());
    ranks.pids.push_back(spawn(own, ranks.dirs.back(), SAFETRAIN_SOURCE_DIR,
                               {"RANK=" + std::to_string(r), "LOCAL_RANK=" + std::to_string(r),
                                "WORLD_SIZE=" + std::to_string(world), "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port}));
  }
  return ranks;
}

std::vector<int> wait_all(const Ranks& ranks) {
  std::vector<int> codes;
  for (const int pid : ranks.pids) codes.push_back(wait_exit(pid));
  return codes;
}

std::string logs(const Ranks& ranks) {
  std::string out;
  for (const auto& d : ranks.dirs) out += "--- " + d.filename().string() + "\n" + read_text(d / "stderr.txt");
  return out.substr(out.size() > 6000 ? out.size() - 6000 : 0);
}

std::vector<std::string> checksums(const fs::path& stderr_file) {
  std::vector<std::string> out;
  const std::regex line("parameter checksum ([0-9a-f]{16})");
  for (const auto& l : read_lines(stderr_file)) {
    std::smatch m;
    if (std::regex_search(l, m, line)) out.push_back(m[1]);
  }
  return out;
}

nlohmann::json read_json(const fs::path& file) { return nlohmann::json::parse(read_text(file)); }

std::vector<double> column(const fs::path& metrics_csv, size_t index) {
  std::vector<double> out;
  const auto lines = read_lines(metrics_csv);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::stringstream row(lines[i]);
    std::string cell;
    for (size_t c = 0; c <= index; ++c) std::getline(row, cell, ',');
    out.push_back(std::stod(cell));
  }
  return out;
}

// Exit code of `pid` if it ends within `limit`, else -1 (the process is then killed).
int wait_exit_within(int pid, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

}  // namespace

TEST(Ddp, TwoRanksWithHalfTheBatchMatchOneRankAndHoldTheSameWeights) {
  const auto dir = scratch("ddp_equivalence");
  const auto config = ddp_config(dir);
  const auto one = run({"trainer", "--config", config.string(), "--set", "output.run_name=one"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto ranks = start_ranks(dir, 2, {"trainer", "--config", config.string(), "--set", "output.run_name=two",
                                          "--set", "training.batch_size=32"});
  ASSERT_EQ(wait_all(ranks), (std::vector<int>{0, 0})) << logs(ranks);

  // Identical weights on both ranks after every epoch.
  const auto rank0 = checksums(ranks.dirs[0] / "stderr.txt"), rank1 = checksums(ranks.dirs[1] / "stderr.txt");
  EXPECT_EQ(rank0.size(), 3u);
  EXPECT_EQ(rank0, rank1);
  EXPECT_NE(read_text(ranks.dirs[1] / "stderr.txt").find("[rank 1] "), std::string::npos);

  // The same global batches: the same training and validation curves and final metrics.
  const fs::path a = dir / "runs" / "one", b = dir / "runs" / "two";
  for (size_t col : {1u, 2u, 4u}) {  // train_loss, val_loss, val_r2
    const auto x = column(a / "metrics.csv", col), y = column(b / "metrics.csv", col);
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], y[i], 1e-4 * std::max(1.0, std::abs(x[i]))) << "column " << col;
  }
  const auto m1 = read_json(a / "metrics.json"), m2 = read_json(b / "metrics.json");
  for (const char* split : {"val", "test"}) {
    EXPECT_EQ(m1[split]["count"], m2[split]["count"]) << split;
    EXPECT_NEAR(m1[split]["loss"].get<double>(), m2[split]["loss"].get<double>(), 1e-4 * m1[split]["loss"].get<double>());
    EXPECT_NEAR(m1[split]["mean_r2"].get<double>(), m2[split]["mean_r2"].get<double>(), 1e-4);
  }

  // One set of run files, written by rank 0; each rank's memory CSV; the report covers both ranks.
  EXPECT_FALSE(fs::exists(dir / "runs" / "two-2"));
  EXPECT_TRUE(fs::exists(b / "checkpoints/best/model.pt"));
  EXPECT_TRUE(fs::exists(b / "plots/val_scatter_grid.png"));
  EXPECT_TRUE(fs::exists(b / "memory.rank0.csv"));
  EXPECT_TRUE(fs::exists(b / "memory.rank1.csv"));
  EXPECT_FALSE(fs::exists(b / "memory.csv"));
  EXPECT_EQ(read_lines(b / "predictions/val.csv").size(), read_lines(a / "predictions/val.csv").size());
  const auto report = read_json(b / "memory_report.json");
  EXPECT_EQ(report["world_size"], 2);
  ASSERT_EQ(report["ranks"].size(), 2u);
  EXPECT_GT(report["ranks"][1]["peak_rss_mb"].get<double>(), 0.0);
  EXPECT_TRUE(report.contains("worst_rank"));
  EXPECT_EQ(read_text(ranks.dirs[1] / "stdout.txt"), "");  // the summary line is rank 0's
}

TEST(Ddp, SigtermOnOneRankStopsBothThenTwoRanksResume) {
  const auto dir = scratch("ddp_sigterm");
  // 1200 training rows, 32 per rank per batch: 19 batches per epoch; rank 1 gets SIGTERM in epoch 2.
  const auto config = ddp_config(dir, "  batch_size: 32\ndebug:\n  sigterm_at_batch: 25\n  signal_rank: 1\n");
  const auto stopped = start_ranks(dir / "first", 2, {"trainer", "--config", config.string()});
  EXPECT_EQ(wait_all(stopped), (std::vector<int>{143, 143})) << logs(stopped);
  const fs::path run_dir = dir / "runs" / "tiny";
  const auto state = read_json(run_dir / "checkpoints/last/state.json");
  EXPECT_EQ(state["components"]["counters"]["epochs_completed"], 1);
  EXPECT_EQ(state["components"]["distributed"]["world_size"], 2);
  EXPECT_EQ(read_lines(run_dir / "metrics.csv").size(), 2u);  // header + epoch 1

  // Another world size is refused with a message; the same one completes the run.
  const auto single = run({"trainer", "--resume", run_dir.string()});
  EXPECT_EQ(single.exit_code, 2);
  EXPECT_NE(single.err.find("written by a run of 2 rank(s)"), std::string::npos) << single.err;
  const auto resumed = start_ranks(dir / "resumed", 2, {"trainer", "--resume", run_dir.string(), "--set",
                                                        "debug.sigterm_at_batch=0"});
  EXPECT_EQ(wait_all(resumed), (std::vector<int>{0, 0})) << logs(resumed);
  EXPECT_EQ(read_lines(run_dir / "metrics.csv").size(), 4u);
  EXPECT_TRUE(fs::exists(run_dir / "metrics.json"));
  EXPECT_EQ(checksums(resumed.dirs[0] / "stderr.txt"), checksums(resumed.dirs[1] / "stderr.txt"));
}

TEST(Ddp, AMemoryAlarmOnOneRankStopsBothAtTheSameStepWithACheckpoint) {
  const auto dir = scratch("ddp_alarm");
  const auto config = ddp_config(dir, "  batch_size: 32\n");
  // Only rank 1 has a critical level (1 MB of anonymous memory): its monitor raises the alarm at once.
  const auto ranks = start_ranks(dir, 2, {"trainer", "--config", config.string()},
                                 {{}, {"--set", "monitor.critical_rss_mb=1"}});
  EXPECT_EQ(wait_all(ranks), (std::vector<int>{3, 3})) << logs(ranks);
  EXPECT_TRUE(fs::exists(dir / "runs" / "tiny" / "checkpoints/last/model.pt")) << logs(ranks);
  EXPECT_NE(read_text(ranks.dirs[1] / "stderr.txt").find("critical_rss_mb"), std::string::npos) << logs(ranks);
}

TEST(Ddp, ARankKilledWithSigkillEndsTheOtherWithinTheTimeout) {
  const auto dir = scratch("ddp_sigkill");
  const auto config = ddp_config(dir, "", /*max_epochs=*/500, /*timeout_s=*/15);
  const auto ranks = start_ranks(dir, 2, {"trainer", "--config", config.string()});
  const fs::path metrics = dir / "runs" / "tiny" / "metrics.csv";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!(fs::exists(metrics) && read_lines(metrics).size() >= 2) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(ranks.pids[1], SIGKILL);
  ASSERT_TRUE(fs::exists(metrics) && read_lines(metrics).size() >= 2) << logs(ranks);
  wait_exit(ranks.pids[1]);
  const auto start = std::chrono::steady_clock::now();
  const int code = wait_exit_within(ranks.pids[0], std::chrono::seconds(15 + 10));
  const auto err = read_text(ranks.dirs[0] / "stderr.txt");
  EXPECT_EQ(code, 1) << err.substr(err.size() > 3000 ? err.size() - 3000 : 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(25));
  EXPECT_NE(err.find("ddp: "), std::string::npos);
  EXPECT_NE(err.find("rank 0 of 2, master 127.0.0.1:"), std::string::npos) << err.substr(err.size() > 3000 ? err.size() - 3000 : 0);
}

TEST(Ddp, WithMappedStorageRankZeroConvertsTheTableOnceAndTheOtherRankMapsIt) {
  const auto dir = scratch("ddp_mapped");
  const auto csv = dir / "table.csv";
  {
    std::ofstream out(csv);
    out << "a,b,c,y\n";
    for (int r = 0; r < 1200; ++r) out << r % 7 << ',' << (r * 13) % 29 << ',' << r * 0.001 << ',' << r % 7 + r * 0.002 << '\n';
  }
  const auto config = ddp_config(dir, "", 2);
  const std::vector<std::string> args = {"trainer", "--config", config.string(), "--set", "data.source=csv",
                                         "--set", "data.path=" + csv.string(), "--set", "data.targets=[y]",
                                         "--set", "data.storage=mmap", "--set", "descriptors.enabled=false"};
  const auto ranks = start_ranks(dir, 2, args);
  ASSERT_EQ(wait_all(ranks), (std::vector<int>{0, 0})) << logs(ranks);
  const auto log0 = read_text(ranks.dirs[0] / "stderr.txt"), log1 = read_text(ranks.dirs[1] / "stderr.txt");
  EXPECT_NE(log0.find("converting"), std::string::npos) << log0;
  EXPECT_EQ(log1.find("converting"), std::string::npos) << log1;
  EXPECT_NE(log1.find("memory-mapped"), std::string::npos) << log1;
  size_t tables = 0;
  for (const auto& entry : fs::directory_iterator(dir / "runs" / ".cache" / "data")) tables += entry.path().extension() == ".table";
  EXPECT_EQ(tables, 1u);
  EXPECT_TRUE(fs::exists(dir / "runs" / "tiny" / "metrics.csv"));
}
