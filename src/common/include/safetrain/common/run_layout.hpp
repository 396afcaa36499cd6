#pragma once
// Every path of a run directory, and the columns of its metrics.csv, in one
// place: the trainer writes through it, plot_run and the tests read through it.
#include <filesystem>
#include <string>
#include <vector>

namespace safetrain {

inline constexpr size_t kMaxRunNameLength = 100;
// InputError naming output.run_name unless `name` is one path component of
// [A-Za-z0-9._-], not "." or "..", at most kMaxRunNameLength characters:
// a run is always created inside output.dir.
void check_run_name(const std::string& name);

class RunLayout {
 public:
  explicit RunLayout(std::filesystem::path root) : root_(std::move(root)) {}

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path config() const { return root_ / "config.yaml"; }
  std::filesystem::path metrics_csv() const { return root_ / "metrics.csv"; }
  std::filesystem::path metrics_json() const { return root_ / "metrics.json"; }
  std::filesystem::path memory_csv() const { return root_ / "memory.csv"; }
  // A data-parallel run's ranks each sample their own memory: memory.rank<N>.csv (memory.csv for one process).
  std::filesystem::path memory_csv(int rank, int world_size) const {
    return world_size > 1 ? root_ / ("memory.rank" + std::to_string(rank) + ".csv") : memory_csv();
  }
  std::filesystem::path memory_report() const { return root_ / "memory_report.json"; }
  std::filesystem::path features_json() const { return root_ / "features.json"; }
  std::filesystem::path importance_csv() const { return root_ / "importance.csv"; }
  // logging.tensorboard: one event file per session (events.out.tfevents.*); steps/ holds the per-step loss,
  // a run of its own in TensorBoard because its x axis is the optimizer step, not the epoch.
  std::filesystem::path tensorboard() const { return root_ / "tensorboard"; }
  std::filesystem::path tensorboard_steps() const { return tensorboard() / "steps"; }
  std::filesystem::path checkpoints() const { return root_ / "checkpoints"; }
  std::filesystem::path last_checkpoint() const { return checkpoints() / "last"; }
  std::filesystem::path best_checkpoint() const { return checkpoints() / "best"; }
  std::filesystem::path predictions() const { return root_ / "predictions"; }
  std::filesystem::path predictions_csv(const std::string& split) const { return predictions() / (split + ".csv"); }
  std::filesystem::path plots() const { return root_ / "plots"; }
  std::filesystem::path plot(const std::string& name) const { return plots() / (name + ".png"); }
  // The writer's flock (run_dir_lock.hpp): one trainer per run directory.
  std::filesystem::path writer_lock() const { return root_ / ".writer.lock"; }

  void create_directories() const {
    for (const auto& dir : {checkpoints(), predictions(), plots()}) std::filesystem::create_directories(dir);
  }

 private:
  std::filesystem::path root_;
};

// metrics.csv: one row per epoch, these columns in this order (empty cell = not measured that epoch), then
// metrics_target_columns. Every figure below has one definition, the same in metrics.csv, metrics.json
// ("loss", "mean_mae", "mean_r2" of each split), the log and the plots:
//   loss     MSE of the targets in the units the model trains on (standardised by the training split's
//            mean and std when data.standardize_targets), averaged over targets: the training loss itself
//   mae      the mean over targets of each target's MAE in those same units (divided by its training std when
//            the targets are standardised)
//   r2       the mean over targets of each target's R²
// Per-target figures (val_mae_<t>, val_r2_<t>, metrics.json "targets") are in the target's own units.
// The names of the built-in figures: the keys the trainer logs them under (train/metrics_record.hpp), the columns
// of metrics.csv and the tags of the TensorBoard files.
namespace metric {
inline constexpr const char* kEpoch = "epoch";
inline constexpr const char* kTrainLoss = "train_loss";
inline constexpr const char* kValLoss = "val_loss";
inline constexpr const char* kValMae = "val_mae";
inline constexpr const char* kValR2 = "val_r2";
inline constexpr const char* kLr = "lr";
inline constexpr const char* kGradNorm = "grad_norm";
inline constexpr const char* kSeconds = "seconds";
inline constexpr const char* kSamplesPerS = "samples_per_s";
inline constexpr const char* kRssMb = "rss_mb";
// Logged too, after the columns below in metrics.csv: the training pass's share of time waiting for batches;
// the device's allocated MB at the epoch's end (CUDA runs only).
inline constexpr const char* kLoaderWaitFraction = "loader_wait_fraction";
inline constexpr const char* kDeviceMb = "device_mb";
}  // namespace metric
inline constexpr const char* kMetricsColumns[] = {metric::kEpoch,    metric::kTrainLoss, metric::kValLoss,
                                                  metric::kValMae,   metric::kValR2,     metric::kLr,
                                                  metric::kGradNorm, metric::kSeconds,   metric::kSamplesPerS,
                                                  metric::kRssMb};
// A figure per target is logged as "<figure>/<target>" (TensorBoard groups the tags by the part before the '/');
// its metrics.csv column is "<figure>_<target>".
inline std::string target_metric_key(const std::string& figure, const std::string& target) {
  return figure + "/" + target;
}
inline std::string metrics_column(std::string key) {
  if (const auto slash = key.find('/'); slash != std::string::npos) key[slash] = '_';
  return key;
}
// The per-target columns after kMetricsColumns: val_mae_<t>, val_r2_<t> for each target, in order. Any other
// figure a run logs gets a column after these, in the order it first appears.
inline std::vector<std::string> metrics_target_columns(const std::vector<std::string>& targets) {
  std::vector<std::string> columns;
  for (const auto& t : targets) columns.push_back(metrics_column(target_metric_key(metric::kValMae, t)));
  for (const auto& t : targets) columns.push_back(metrics_column(target_metric_key(metric::kValR2, t)));
  return columns;
}
// The name of the loss (and of the averaged MAE's units) for metrics.json "loss_units", the log and the plots.
inline std::string loss_units(bool standardized_targets) {
  return standardized_targets ? "MSE, standardised targets" : "MSE, target units";
}
// What metrics.json's averaged figures are ("averages"), as the comment above says.
inline constexpr const char* kAveragedFigures =
    "loss: MSE averaged over targets, in the units of loss_units (the training loss); mean_mae: mean over targets of "
    "MAE in those units; mean_r2: mean over targets of R2; targets: each target in its own units";

}  // namespace safetrain
