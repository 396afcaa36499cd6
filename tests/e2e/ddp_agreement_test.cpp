// Ranks that disagree end together at rendezvous, each with one message naming what differs: another
// model (a rank from another job on the port) or other rows (a stale per-node copy of the CSV). The
// store of a loopback run listens on loopback only.
#include <gtest/gtest.h>

#include <fstream>

#include "../support/free_port.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

// Two ranks on loopback; rank r runs in `cwds[r]` with `extra[r]` appended. Returns each rank's exit code
// and stderr.
std::vector<std::pair<int, std::string>> two_ranks(const fs::path& dir, const std::vector<std::string>& args,
                                                   const std::vector<fs::path>& cwds,
                                                   const std::vector<std::vector<std::string>>& extra) {
  const std::string port = std::to_string(safetrain::testing_support::free_port());
  std::vector<int> pids;
  for (int r = 0; r < 2; ++r) {
    auto own = args;
    own.insert(own.end(), extra[r].begin(), extra[r].end());
    fs::create_directories(dir / ("rank" + std::to_string(r)));
    pids.push_back(spawn(own, dir / ("rank" + std::to_string(r)), cwds[r],
                         {"RANK=" + std::to_string(r), "LOCAL_RANK=" + std::to_string(r), "WORLD_SIZE=2",
                          "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port, "OMP_WAIT_POLICY=PASSIVE"}));
  }
  std::vector<std::pair<int, std::string>> out;
  for (int r = 0; r < 2; ++r) {
    const int code = wait_exit(pids[r]);  // before reading what it wrote
    out.emplace_back(code, read_text(dir / ("rank" + std::to_string(r)) / "stderr.txt"));
  }
  return out;
}

void expect_both_end_naming(const std::vector<std::pair<int, std::string>>& ranks, const std::string& text) {
  for (const auto& [code, err] : ranks) {
    EXPECT_EQ(code, 2) << err;
    EXPECT_NE(err.find("ddp: rank 1 disagrees with rank 0 on the " + text), std::string::npos) << err;
  }
}

}  // namespace

TEST(DdpAgreement, ARankWithAnotherModelEndsEveryRankNamingTheDifference) {
  const auto dir = scratch("ddp_other_model");
  const auto config = tiny_config(dir, "training:\n  ddp_timeout_s: 60\n");
  const auto ranks = two_ranks(dir, {"trainer", "--config", config.string()}, {SAFETRAIN_SOURCE_DIR, SAFETRAIN_SOURCE_DIR},
                               {{}, {"--set", "model.hidden=48"}});
  expect_both_end_naming(ranks, "config: 'model: hidden: 48' against 'model: hidden: 32'");
}

TEST(DdpAgreement, RanksOnOtherRowsEndNamingTheData) {
  const auto dir = scratch("ddp_other_rows");
  // The same relative data.path, read from two directories: one machine's copy is stale.
  for (const char* node : {"node0", "node1"}) {
    fs::create_directories(dir / node);
    std::ofstream out(dir / node / "rows.csv");
    out << "f1,f2,t1\n";
    for (int i = 0; i < 300; ++i) out << (i % 11) * 0.1 << ',' << (i % 3) << ',' << (node[4] == '0' ? i % 7 : i % 5) << '\n';
  }
  const auto config = tiny_config(dir, "data:\n  source: csv\n  path: rows.csv\n  targets: [t1]\n"
                                       "descriptors:\n  enabled: false\ntraining:\n  ddp_timeout_s: 60\n");
  const auto ranks = two_ranks(dir, {"trainer", "--config", config.string()}, {dir / "node0", dir / "node1"}, {{}, {}});
  expect_both_end_naming(ranks, "data: ");
}
