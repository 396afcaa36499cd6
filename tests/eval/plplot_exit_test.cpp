// PLplot ends the process from plexit() (a full /tmp for its driver list, a missing driver directory,
// an output file it cannot open): its exit handler throws instead, so our process lives on, the
// failure is named and the run cannot exit 0.
#include <gtest/gtest.h>
#include <plplot/plplot.h>

#include <string>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/output_status.hpp"
#include "safetrain/eval/plots.hpp"

namespace fs = std::filesystem;
using namespace safetrain;

TEST(PlplotExit, PlplotsOwnExitBecomesANamedErrorNotTheEndOfTheProcess) {
  const auto dir = testing_support::scratch_dir("plplot_exit");
  std::vector<eval::EpochRow> rows;
  for (int i = 0; i < 10; ++i) rows.push_back({i, 1.0 / (i + 1), 1.2 / (i + 1)});
  eval::write_loss_curve(rows, dir / "before.png");  // the first plot installs the handlers
  reset_output_write_failures();
  // An output file PLplot cannot open: plinit() gives up through plexit() ("Too many tries").
  PLINT previous = 0, stream = 0;
  plgstrm(&previous);
  plmkstrm(&stream);
  plsdev("pngcairo");
  plsfnam((dir / "no_such_dir" / "x.png").c_str());
  try {
    plinit();
    ADD_FAILURE() << "plinit returned";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("PLplot gave up: "), std::string::npos) << e.what();
  }
  plsstrm(previous);
  EXPECT_TRUE(output_write_failed());
  reset_output_write_failures();
  eval::write_loss_curve(rows, dir / "after.png");  // and PLplot still draws
  EXPECT_TRUE(fs::exists(dir / "after.png"));
}
