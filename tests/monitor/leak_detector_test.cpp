#include <gtest/gtest.h>

#include <random>

#include "safetrain/monitor/leak_detector.hpp"
#include "safetrain/monitor/memory_monitor.hpp"

using namespace safetrain::monitor;

TEST(TheilSen, ExactOnALineAndRobustToOutliers) {
  std::vector<double> xs, ys;
  for (int i = 0; i < 10; ++i) {
    xs.push_back(i);
    ys.push_back(100.0 + 2.0 * i);
  }
  EXPECT_DOUBLE_EQ(theil_sen_slope(xs, ys), 2.0);
  ys[3] += 500.0;  // one spike (e.g. a plot stage) must not fake a trend
  ys[7] -= 300.0;
  EXPECT_NEAR(theil_sen_slope(xs, ys), 2.0, 1e-9);
  EXPECT_DOUBLE_EQ(theil_sen_slope({1.0}, {5.0}), 0.0);
}

TEST(LeakDetector, PlantedValidateLeakFlaggedWithinFiveEpochsNamingValidate) {
  LeakDetector detector({/*warmup=*/2, /*window=*/10, /*threshold=*/1.0}, "host");
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.3);
  int64_t flagged_at = -1;
  std::string message;
  for (int64_t epoch = 1; epoch <= 20 && flagged_at < 0; ++epoch) {
    const double memory = 400.0 + 1.5 * static_cast<double>(epoch) + noise(rng);
    const std::map<std::string, double> growth{{"train", noise(rng)}, {"validate", 1.5 + noise(rng)}};
    if (auto warning = detector.observe(epoch, memory, growth)) {
      flagged_at = epoch;
      message = *warning;
    }
  }
  ASSERT_GT(flagged_at, 0) << "never flagged";
  EXPECT_LE(flagged_at, 2 + 5);
  EXPECT_NE(message.find("validate grew"), std::string::npos) << message;
  EXPECT_NE(message.find("max_validation_outputs"), std::string::npos) << message;
}

TEST(LeakDetector, CleanNoisyRunStaysSilent) {
  LeakDetector detector({2, 10, 1.0}, "host");
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, 2.0);  // noisy but flat
  for (int64_t epoch = 1; epoch <= 50; ++epoch) {
    EXPECT_FALSE(detector.observe(epoch, 500.0 + noise(rng), {{"train", noise(rng)}}).has_value()) << epoch;
  }
  EXPECT_LT(std::abs(detector.slope()), 1.0);
}

TEST(LeakDetector, WarnsOnlyOnce) {
  LeakDetector detector({0, 5, 1.0}, "device");
  int warnings = 0;
  for (int64_t epoch = 1; epoch <= 30; ++epoch) warnings += detector.observe(epoch, 10.0 * epoch, {}).has_value();
  EXPECT_EQ(warnings, 1);
}
