// The real trainer under an address-space limit (prlimit --as): refused with
// exit 3 and the numbers instead of spinning forever in a thread pool's setup,
// and an allocation LibTorch cannot make is a refusal naming its size.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

struct Limited {
  int exit_code = -1;
  std::string err;
};

// SIGKILL after 240 s: a hang (the old behaviour) fails the test instead of blocking ctest.
Limited run_limited(const std::string& address_space, const fs::path& dir, const std::string& args) {
  const fs::path err = dir / "stderr.txt";
  const std::string command = "cd " + std::string(SAFETRAIN_SOURCE_DIR) + " && timeout -s KILL 240 prlimit --as=" +
                              address_space + " " + binary("trainer").string() + " " + args + " >" +
                              (dir / "stdout.txt").string() + " 2>" + err.string();
  const int status = std::system(command.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(err)};
}

bool have_prlimit() { return std::system("prlimit --version >/dev/null 2>&1") == 0; }

}  // namespace

TEST(MemoryLimit, AddressSpaceTooSmallForTheThreadPoolsIsRefusedNotAHang) {
  if (!have_prlimit()) GTEST_SKIP() << "prlimit (util-linux) not installed";
  const auto dir = scratch("as_small");
  const auto r = run_limited("800000000", dir, "--config " + tiny_config(dir).string());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("address-space limit (ulimit -v / RLIMIT_AS) is 763 MB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("training.threads"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("OPENBLAS_NUM_THREADS"), std::string::npos) << r.err;
}

TEST(MemoryLimit, ModelBeyondTheAddressSpaceIsRefusedBeforeTraining) {
  if (!have_prlimit()) GTEST_SKIP() << "prlimit (util-linux) not installed";
  const auto dir = scratch("as_model");
  const auto r = run_limited("2147483648", dir,
                             "--config " + tiny_config(dir).string() +
                                 " --set model.hidden=4096 --set model.mlp_layers=4");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("address-space limit"), std::string::npos) << r.err;
}

TEST(MemoryLimit, DataAllocationFailureIsARefusalWithTheSize) {
  if (!have_prlimit()) GTEST_SKIP() << "prlimit (util-linux) not installed";
  const auto dir = scratch("as_data");
  const auto r = run_limited("3221225472", dir,
                             "--config " + tiny_config(dir).string() + " --set data.synthetic.rows=100000000");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("refused: out of memory: LibTorch could not allocate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" MB on the CPU"), std::string::npos) << r.err;
}
