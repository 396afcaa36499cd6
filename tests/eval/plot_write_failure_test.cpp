// PLplot's cairo driver ignores write errors: a file-size limit (RLIMIT_FSIZE, the
// same short write a full disk gives) used to leave a truncated PNG and report success.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <string>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/output_status.hpp"
#include "safetrain/eval/plots.hpp"

namespace fs = std::filesystem;
using namespace safetrain;

namespace {

// Limits the size of files this process writes while alive; SIGXFSZ ignored so write(2) fails with EFBIG.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &previous_);
    struct rlimit limited = previous_;
    limited.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &previous_);
    ::signal(SIGXFSZ, previous_handler_);
  }

 private:
  struct rlimit previous_ {};
  sighandler_t previous_handler_;
};

}  // namespace

TEST(PlotWriteFailure, TruncatedPngIsAnErrorAndNoFileAppears) {
  const auto dir = testing_support::scratch_dir("plot_short_write");
  std::vector<eval::EpochRow> rows;
  for (int i = 0; i < 40; ++i) rows.push_back({i, 1.0 / (i + 1), 1.2 / (i + 1)});
  eval::write_loss_curve(rows, dir / "complete.png");
  ASSERT_GT(fs::file_size(dir / "complete.png"), 4000u);
  reset_output_write_failures();
  {
    FileSizeLimit limit(2000);
    try {
      eval::write_loss_curve(rows, dir / "loss.png");
      ADD_FAILURE() << "a truncated PNG was accepted";
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find((dir / ".loss.png.tmp.").string()), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(fs::exists(dir / "loss.png"));
  EXPECT_TRUE(output_write_failed());
  reset_output_write_failures();
}
