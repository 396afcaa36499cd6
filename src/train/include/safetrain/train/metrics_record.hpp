#pragma once
// One epoch's figures as named scalars, in the spirit of Lightning's `self.log(name, value)`: the parts that
// measure log into it during the epoch (the loop, the callbacks' hooks, a user's callback), and once it is
// complete every sink reads it (metrics.csv, the epoch line, TensorBoard). A new figure is one `log` call where
// it is measured; no sink lists the figures.
#include <optional>
#include <string>
#include <vector>

namespace safetrain::train {

class MetricsRecord {
 public:
  // Where a figure shows besides the logs (metrics.csv, TensorBoard): like Lightning's prog_bar=True, the
  // epoch line printed after each epoch.
  enum class Show { logs_only, on_epoch_line };
  struct Entry {
    std::string key;
    double value;
    Show show;
  };

  // Sets `key` (a second log of the same key replaces the value and keeps its place). A key is a name for a
  // CSV header and a TensorBoard tag: not empty, no comma, quote or line break (std::invalid_argument).
  void log(const std::string& key, double value, Show show = Show::logs_only);
  // One figure per target, "<figure>/<target>" (run_layout.hpp); `values` has one value per target.
  void log_per_target(const std::string& figure, const std::vector<std::string>& targets,
                      const std::vector<double>& values);
  std::optional<double> get(const std::string& key) const;
  double value_or(const std::string& key, double fallback) const { return get(key).value_or(fallback); }
  // In the order first logged.
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace safetrain::train
