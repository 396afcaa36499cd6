#pragma once
// Every path of a run directory, and the columns of its metrics.csv, in one
// place: the trainer writes through it, plot_run and the tests read through it.
#include <filesystem>
#include <string>

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

// metrics.csv: one row per epoch, these columns in this order (empty cell = not measured that epoch).
inline constexpr const char* kMetricsColumns[] = {"epoch", "train_loss", "val_loss", "val_mae", "val_r2",
                                                  "lr",    "grad_norm",  "seconds",  "samples_per_s", "rss_mb"};

}  // namespace safetrain
