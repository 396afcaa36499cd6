#pragma once
// Leak detection on epoch-end memory: a robust (Theil–Sen) slope over a
// sliding window after warm-up, so one noisy epoch neither hides nor fakes a
// trend. The phase that grew most over the window is named with a fix.
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace safetrain::monitor {

// Median of pairwise slopes; 0 with fewer than two points.
double theil_sen_slope(const std::vector<double>& xs, const std::vector<double>& ys);

struct LeakDetectorOptions {
  int64_t warmup_epochs = 2;
  int64_t window_epochs = 10;
  double threshold_mb_per_epoch = 1.0;
};

class LeakDetector {
 public:
  LeakDetector(LeakDetectorOptions options, std::string what);  // what: "host" / "device"
  // One epoch end: memory (MB) and each phase's net growth during that epoch.
  // Returns a warning the first time the slope crosses the threshold.
  std::optional<std::string> observe(int64_t epoch, double memory_mb, const std::map<std::string, double>& phase_growth);
  double slope() const { return slope_; }   // MB/epoch over the current window (0 until enough epochs)
  bool warned() const { return warned_; }

 private:
  struct Point { int64_t epoch; double memory_mb; std::map<std::string, double> phase_growth; };
  LeakDetectorOptions options_;
  std::string what_;
  std::deque<Point> window_;
  double slope_ = 0.0;
  bool warned_ = false;
};

std::string suggestion_for_phase(const std::string& phase);

}  // namespace safetrain::monitor
