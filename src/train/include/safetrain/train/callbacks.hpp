#pragma once
// The built-in callbacks, one file each under src/train/callbacks/. The
// trainer installs them in this order (docs/ARCHITECTURE.md):
//   LearningRateCallback   sets each epoch's rate (logs lr); feeds the plateau schedule
//   GradNormCallback       logs grad_norm: the mean gradient norm before clipping
//   LeakPlanterCallback    test hook: keeps memory on purpose (debug.plant_leak_mb_per_epoch)
//   EarlyStoppingCallback  patience on the monitored metric (stop)
//   CheckpointCallback     checkpoints/last every checkpoint.every_n_epochs, checkpoints/best on improvement
//   MemoryFiguresCallback  logs rss_mb (and device_mb on CUDA) at the epoch's end, before the trim
//   MemoryTrimCallback     releases cached memory every N batches and at epoch end
//   MemoryMonitorCallback  phases, the epoch-end sample (after the trim), the memory alarm (stop)
// and the sinks, which only read the record (the sink phase runs after every on_train_epoch_end, so they see
// what any callback logged, a user's too):
//   MetricsCsvCallback     one metrics.csv row per epoch
//   TensorBoardCallback    logging.tensorboard: the figures as TensorBoard scalars
//   ProgressCallback       the progress bar or lines, and the epoch line
#include <memory>

#include "safetrain/train/callback.hpp"
#include "safetrain/train/optimization.hpp"
#include "safetrain/train/progress.hpp"
#include "safetrain/train/rank_group.hpp"
#include "safetrain/train/run_files.hpp"
#include "safetrain/train/tensorboard_callback.hpp"

namespace safetrain::train {

class MemoryMonitorCallback : public Callback {
 public:
  std::string name() const override { return "memory_monitor"; }
  void on_train_epoch_start(FitContext& c, EpochRecord&) override;
  void on_train_end(FitContext& c, EpochRecord&) override;
  void on_validation_start(FitContext& c) override;
  void on_validation_end(FitContext& c, EpochRecord&) override;
  void on_train_epoch_end(FitContext& c, EpochRecord& record) override;
  void on_test_start(FitContext& c) override;
  void on_test_end(FitContext& c) override;
  std::optional<RunEnd> should_stop() const override;
  void on_fit_start(FitContext& c) override { monitor_ = c.monitor; }

 private:
  monitor::MemoryMonitor* monitor_ = nullptr;
};

class LearningRateCallback : public Callback {
 public:
  LearningRateCallback(const TrainingOptions& training, torch::optim::Optimizer& optimizer)
      : schedule_(training), optimizer_(optimizer) {}
  std::string name() const override { return "lr_schedule"; }
  void on_train_epoch_start(FitContext& c, EpochRecord& record) override;
  void on_train_epoch_end(FitContext& c, EpochRecord& record) override;
  nlohmann::json state_dict() const override;
  void load_state_dict(const nlohmann::json& state) override;

 private:
  LearningRateSchedule schedule_;
  torch::optim::Optimizer& optimizer_;
};

class GradNormCallback : public Callback {
 public:
  std::string name() const override { return "grad_norm"; }
  void on_train_epoch_start(FitContext&, EpochRecord&) override { sum_ = 0, steps_ = 0; }
  void on_train_batch_end(FitContext&, const BatchEnd& batch) override;
  void on_train_epoch_end(FitContext&, EpochRecord& record) override;

 private:
  double sum_ = 0;
  int64_t steps_ = 0;
};

class LeakPlanterCallback : public Callback {
 public:
  explicit LeakPlanterCallback(double mb_per_epoch) : mb_per_epoch_(mb_per_epoch) {}
  std::string name() const override { return "leak_planter"; }
  void on_validation_end(FitContext& c, EpochRecord&) override;
  void on_fit_end(FitContext&, RunEnd) override { kept_.clear(); }

 private:
  double mb_per_epoch_;
  std::vector<torch::Tensor> kept_;
};

// Test hook behind debug.sigint_at_batch / _at_test / _at_validation: a signal at an exact point of the run.
class SignalInjectorCallback : public Callback {
 public:
  explicit SignalInjectorCallback(const DebugOptions& debug) : debug_(debug) {}
  std::string name() const override { return "signal_injector"; }
  void on_train_batch_end(FitContext&, const BatchEnd&) override;
  void on_test_start(FitContext&) override;
  void on_validation_start(FitContext& c) override;

 private:
  DebugOptions debug_;
  int64_t batches_ = 0;
};

class EarlyStoppingCallback : public Callback {
 public:
  explicit EarlyStoppingCallback(const TrainingOptions& training)
      : stopping_(training.early_stopping, training.patience, training.min_delta) {}
  std::string name() const override { return "early_stopping"; }
  void on_train_epoch_end(FitContext&, EpochRecord& record) override;
  std::optional<RunEnd> should_stop() const override;
  nlohmann::json state_dict() const override;
  void load_state_dict(const nlohmann::json& state) override;

 private:
  EarlyStopping stopping_;
};

// Saves checkpoints/last every checkpoint.every_n_epochs epochs and after the final one, and checkpoints/best
// when the monitored metric improves by more than training.min_delta (the same rule as early stopping). A run
// that stops on an epoch boundary brings `last` up to it (catch_up); one cut short mid-epoch keeps the last
// epoch-boundary checkpoint written, so --resume repeats the epochs since then exactly.
class CheckpointCallback : public Callback {
 public:
  explicit CheckpointCallback(double min_delta, int64_t every_n_epochs = 1, int64_t max_epochs = 0)
      : min_delta_(min_delta), every_n_epochs_(every_n_epochs), max_epochs_(max_epochs) {}
  std::string name() const override { return "checkpoint"; }
  void on_fit_start(FitContext& c) override;
  void on_train_epoch_end(FitContext& c, EpochRecord& record) override;
  // The run stops right after an epoch (early stopping, a signal or alarm between epochs): writes `last` when
  // it is behind. Call only on an epoch boundary.
  void catch_up(FitContext& c);
  int64_t last_epoch_written() const { return last_epoch_; }
  void on_stop(FitContext& c, RunEnd reason) override;
  nlohmann::json state_dict() const override;
  void load_state_dict(const nlohmann::json& state) override;
  double best_metric() const { return best_.best; }
  int64_t best_epoch() const { return best_epoch_; }

 private:
  double min_delta_;
  int64_t every_n_epochs_, max_epochs_;
  ImprovementTracker best_;
  int64_t best_epoch_ = -1;
  int64_t last_epoch_ = -1;  // epochs checkpoints/last holds (-1: not written by this process)
  void save_last(FitContext& c);
};

class MemoryFiguresCallback : public Callback {
 public:
  std::string name() const override { return "memory_figures"; }
  void on_train_epoch_end(FitContext& c, EpochRecord& record) override;
};

class MetricsCsvCallback : public Callback {
 public:
  std::string name() const override { return "metrics_csv"; }
  void on_fit_start(FitContext& c) override;
  void log_metrics(FitContext& c, const EpochRecord& record) override;

 private:
  std::unique_ptr<MetricsLog> log_;
};

class MemoryTrimCallback : public Callback {
 public:
  explicit MemoryTrimCallback(int64_t every_n_batches) : every_(every_n_batches) {}
  std::string name() const override { return "memory_trim"; }
  void on_train_batch_end(FitContext&, const BatchEnd&) override;
  void on_train_epoch_end(FitContext&, EpochRecord&) override;

 private:
  int64_t every_;
  int64_t since_trim_ = 0;
};

class ProgressCallback : public Callback {
 public:
  explicit ProgressCallback(const config::Config& config);
  std::string name() const override { return "progress"; }
  void on_train_epoch_start(FitContext&, EpochRecord& record) override;
  void on_train_batch_end(FitContext&, const BatchEnd& batch) override;
  void on_train_end(FitContext&, EpochRecord& record) override;
  // The epoch line: the figures logged with Show::on_epoch_line, in the order logged, and the ETA.
  void log_metrics(FitContext& c, const EpochRecord& record) override;

 private:
  Progress progress_;
  int64_t max_epochs_;
};

// Data-parallel runs: logs the all-reduce share of each training pass and the weights' checksum after
// each epoch (the same on every rank).
class DistributedCallback : public Callback {
 public:
  explicit DistributedCallback(RankGroup& ranks) : ranks_(ranks) {}
  std::string name() const override { return "distributed"; }
  void on_train_epoch_start(FitContext& c, EpochRecord& record) override;
  void on_train_end(FitContext& c, EpochRecord& record) override;
  void on_train_epoch_end(FitContext& c, EpochRecord& record) override;

 private:
  RankGroup& ranks_;
};

// The trainer's callbacks for this config, in the order above. Only rank 0 of a data-parallel run writes
// metrics.csv and shows progress; the debug signals fire on debug.signal_rank (-1: every rank).
struct RankRole {
  int rank = 0;
  bool writer = true;
};
CallbackList default_callbacks(const config::Config& config, torch::optim::Optimizer& optimizer,
                               const RankRole& role = {});

}  // namespace safetrain::train
