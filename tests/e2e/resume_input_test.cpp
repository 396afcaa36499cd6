// --resume carries on with the rows the run trained on, or not at all: a rewritten input (other
// content, same size; more rows) is refused naming what changed, a touched but equal one resumes.
#include <gtest/gtest.h>

#include <fstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

// `offset` shifts which row gets which values: the same cells in another order, so the same file size.
void write_rows(const fs::path& csv, int rows, int offset) {
  std::ofstream out(csv, std::ios::trunc);
  out << "f1,f2,t1\n";
  for (int j = 0; j < rows; ++j) {
    const int i = (j + offset) % rows;
    out << (i % 17) * 0.1 << ',' << (i % 5) * 0.3 << ',' << (i % 17) * 0.2 - i % 5 << '\n';
  }
}

Result resume(const fs::path& run_dir) {
  return run({"trainer", "--resume", run_dir.string(), "--set", "training.max_epochs=2"});
}

}  // namespace

TEST(ResumeInput, AnInputThatChangedIsRefusedNamingTheChange) {
  const auto dir = scratch("resume_input");
  const fs::path csv = dir / "rows.csv";
  write_rows(csv, 400, 0);
  const auto config = tiny_config(dir, "data:\n  source: csv\n  path: " + csv.string() +
                                           "\n  targets: [t1]\ndescriptors:\n  enabled: false\ntraining:\n  max_epochs: 1\n");
  ASSERT_EQ(run({"trainer", "--config", config.string()}).exit_code, 0);
  const fs::path run_dir = dir / "runs" / "tiny";

  const auto size = fs::file_size(csv);
  write_rows(csv, 400, 7);  // other content, same size and row count
  ASSERT_EQ(fs::file_size(csv), size);
  const auto other = resume(run_dir);
  EXPECT_EQ(other.exit_code, 2) << other.err;
  EXPECT_NE(other.err.find("--resume needs the input this run trained on, but "), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("trainer --config " + (run_dir / "config.yaml").string()), std::string::npos) << other.err;

  write_rows(csv, 1200, 0);
  const auto longer = resume(run_dir);
  EXPECT_EQ(longer.exit_code, 2) << longer.err;
  EXPECT_NE(longer.err.find("rows.csv changed size"), std::string::npos) << longer.err;

  write_rows(csv, 400, 0);  // the original rows again, a new modification time
  const auto same = resume(run_dir);
  EXPECT_EQ(same.exit_code, 0) << same.err;
}
