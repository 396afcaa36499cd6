// Issue 26 item 11: an ETA within the first seconds of a run, from the first batches of the first epoch.
#include <gtest/gtest.h>

#include "safetrain/train/progress.hpp"

using namespace safetrain::train;

TEST(Progress, EarlyEtaIsLoggedAfterTheFirstFiveBatches) {
  Progress progress(ProgressStyle::lines, 40, 1000);
  progress.begin_epoch(0, 200);
  testing::internal::CaptureStderr();
  for (int64_t step = 1; step < kEarlyEtaBatches; ++step) progress.step(step, 1.0, step * 128);
  EXPECT_EQ(progress.early_eta(), "");
  progress.step(kEarlyEtaBatches, 1.0, kEarlyEtaBatches * 128);
  const std::string logged = testing::internal::GetCapturedStderr();
  EXPECT_NE(progress.early_eta().find("for 40 epoch(s)"), std::string::npos) << progress.early_eta();
  EXPECT_NE(logged.find("ETA (from the first 5 batches)"), std::string::npos) << logged;
  EXPECT_EQ(progress.eta_text(), "");  // the exact ETA still waits for a whole epoch
}

TEST(Progress, EarlyEtaOnAnEpochShorterThanFiveBatchesAndOnlyOnce) {
  Progress progress(ProgressStyle::lines, 10, 1000);
  progress.begin_epoch(0, 3);
  testing::internal::CaptureStderr();
  for (int64_t step = 1; step <= 3; ++step) progress.step(step, 1.0, step);
  progress.end_epoch(0.5);
  progress.begin_epoch(1, 3);
  for (int64_t step = 1; step <= 3; ++step) progress.step(step, 1.0, step);
  const std::string logged = testing::internal::GetCapturedStderr();
  EXPECT_NE(logged.find("ETA (from the first 3 batches)"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("ETA (from"), logged.rfind("ETA (from")) << "logged twice: " << logged;
}
