// A failing plot never ends the run: with PLplot's driver directory missing the trainer still writes
// the checkpoint, metrics.json, predictions and the memory report, names the PLplot failure, and exits 1.
#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

TEST(PlotFailure, APlplotFailureIsNamedAndTheOtherOutputsAreWritten) {
  const auto dir = scratch("plot_failure");
  const int pid = spawn({"trainer", "--config", tiny_config(dir).string()}, dir, SAFETRAIN_SOURCE_DIR,
                        {"OMP_WAIT_POLICY=PASSIVE", "PLPLOT_DRV_DIR=" + (dir / "no_drivers").string()});
  const int code = wait_exit(pid);
  const std::string err = read_text(dir / "stderr.txt");
  EXPECT_EQ(code, 1) << err;
  EXPECT_NE(err.find("trainer: failed: an output could not be written: PLplot"), std::string::npos) << err;
  const fs::path run_dir = dir / "runs" / "tiny";
  for (const char* file : {"metrics.json", "memory_report.json", "predictions/test.csv", "checkpoints/best/model.pt"}) {
    EXPECT_TRUE(fs::exists(run_dir / file)) << file;
  }
  EXPECT_FALSE(fs::exists(run_dir / "plots" / "loss.png"));
  for (const auto& entry : fs::directory_iterator(run_dir / "plots")) ADD_FAILURE() << "left behind: " << entry.path();
}
