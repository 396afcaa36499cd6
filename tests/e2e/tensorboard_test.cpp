// logging.tensorboard, read back by TensorBoard's own reader (EventAccumulator, SAFETRAIN_PYTHON with the
// pinned tensorboard package): every tag and value agrees with metrics.csv, also after a resume that repeats
// epochs (the new session's file starts with a START that makes TensorBoard drop the repeated points).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "safetrain/tensorboard/event_file_reader.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

std::string python_with_tensorboard() {
  const char* python = std::getenv("SAFETRAIN_PYTHON");
  if (!python || !*python) return "";
  const std::string probe = std::string("'") + python +
                            "' -c 'import tensorboard.backend.event_processing.event_accumulator' >/dev/null 2>&1";
  return std::system(probe.c_str()) == 0 ? python : "";
}

// Runs check_tensorboard.py on the run; returns its exit code, its output in `report`.
int tensorboard_agrees_with_csv(const std::string& python, const fs::path& run_dir, std::string& report,
                                const std::string& required_tags) {
  const fs::path out = run_dir.parent_path() / "check_tensorboard.txt";
  const std::string command = "'" + python + "' " + SAFETRAIN_SOURCE_DIR + "/tests/support/check_tensorboard.py '" +
                              run_dir.string() + "' " + required_tags + " > '" + out.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  report = read_text(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const char* kTensorBoardOn = "logging:\n  tensorboard: true\n  tensorboard_step_loss: true\n";

}  // namespace

TEST(TensorBoard, TheReaderAgreesWithMetricsCsvOnEveryTagAndValue) {
  const std::string python = python_with_tensorboard();
  if (python.empty()) GTEST_SKIP() << "no SAFETRAIN_PYTHON with tensorboard";
  const auto dir = scratch("tensorboard_reader");
  const auto trained = run({"trainer", "--config", tiny_config(dir, kTensorBoardOn).string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const fs::path run_dir = dir / "runs" / "tiny";
  std::string report;
  EXPECT_EQ(tensorboard_agrees_with_csv(python, run_dir, report,
                                        "train_loss val_loss val_mae val_r2 lr grad_norm samples_per_s rss_mb "
                                        "seconds loader_wait_fraction val_mae/x val_r2/yaw"),
            0)
      << report;
  // The per-step loss is a run of its own (its x axis is the optimizer step): one point per step.
  const auto steps = safetrain::tensorboard::event_files(run_dir / "tensorboard" / "steps");
  ASSERT_EQ(steps.size(), 1u);
  const auto step_events = safetrain::tensorboard::read_event_file(steps[0]);
  ASSERT_GT(step_events.scalars.size(), 2u);
  for (size_t i = 0; i < step_events.scalars.size(); ++i) {
    EXPECT_EQ(step_events.scalars[i].tag, "train_loss_step");
    EXPECT_EQ(step_events.scalars[i].step, static_cast<int64_t>(i + 1));
  }
}

TEST(TensorBoard, AResumeAddsAFileAndTheReaderDropsTheRepeatedEpochs) {
  const std::string python = python_with_tensorboard();
  if (python.empty()) GTEST_SKIP() << "no SAFETRAIN_PYTHON with tensorboard";
  const auto dir = scratch("tensorboard_resume");
  // checkpoints/last only at the start (every 10 epochs): a stop in epoch 3's validation makes the resume
  // repeat epochs 1 and 2, which the first session's file already holds.
  const auto config = tiny_config(dir, std::string(kTensorBoardOn) + "training:\n  max_epochs: 3\n" +
                                           "checkpoint:\n  every_n_epochs: 10\n");
  const auto cut = run({"trainer", "--config", config.string(), "--set", "debug.sigint_at_validation=3"});
  ASSERT_EQ(cut.exit_code, 130) << cut.err;
  const fs::path run_dir = dir / "runs" / "tiny";
  const auto first = safetrain::tensorboard::event_files(run_dir / "tensorboard");
  ASSERT_EQ(first.size(), 1u);
  const auto before = read_text(first[0]);
  const auto resumed = run({"trainer", "--resume", run_dir.string(), "--set", "debug.sigint_at_validation=0"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto files = safetrain::tensorboard::event_files(run_dir / "tensorboard");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(read_text(files[0]), before) << "the first session's file is never rewritten";
  EXPECT_EQ(safetrain::tensorboard::read_event_file(files[1]).session_starts, std::vector<int64_t>{1});
  std::string report;
  EXPECT_EQ(tensorboard_agrees_with_csv(python, run_dir, report, "train_loss val_loss"), 0) << report;
  EXPECT_NE(report.find("train_loss: 3 points"), std::string::npos) << report;
}
