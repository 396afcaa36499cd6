#pragma once
// The training loop's extension point, on the model of Lightning's Callback:
// checkpointing, early stopping, the learning-rate schedule, the metrics CSV,
// progress, the memory monitor's phases and stop request are each one
// Callback; the loop itself only trains, validates and asks whether to stop.
// A callback that keeps state across a resume gives state_dict/load_state_dict
// and is saved in checkpoints under its name().
//
// Figures: the loop and the callbacks log named scalars into the epoch's
// MetricsRecord (metrics_record.hpp) as they measure them; at the epoch's end
// CallbackList::end_epoch runs two phases, in this order: every callback's
// on_train_epoch_end (measure and act: may still log), then every callback's
// log_metrics (the sinks: metrics.csv, the epoch line, TensorBoard), which
// read the complete record and cannot change it.
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "safetrain/common/run_layout.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/train/metrics_record.hpp"

namespace safetrain::monitor {
class MemoryMonitor;
}

namespace safetrain::train {

enum class RunEnd { completed, early_stopped, signal, nan_loss, out_of_memory, memory_alarm };
const char* run_end_name(RunEnd end);

// A count read back from a checkpoint's state.json: an integer in [minimum, 1e15], or std::out_of_range
// naming the key (a tampered or damaged state with a valid checksum must not be trusted: no
// "4611686018427387904 epochs", no negative epoch).
int64_t checked_count(const nlohmann::json& state, const char* key, int64_t minimum = 0);

// Counters every part may read; saved in checkpoints as the "counters" component.
struct Counters {
  int64_t epochs_completed = 0;
  int64_t global_step = 0;  // optimizer steps
  int64_t nan_skipped = 0;
  int64_t micro_batch = 0;  // rows per micro-batch after out-of-memory shrinks (0 = training.batch_size)
  nlohmann::json state_dict() const;
  void load_state_dict(const nlohmann::json& state);
};

// One epoch as the loop saw it. Its figures are in `metrics` under the names of run_layout.hpp (metric::*):
// train_loss, seconds, samples_per_s, loader_wait_fraction from the loop; val_loss, val_mae, val_r2 and per target
// val_mae/<t>, val_r2/<t> when validated; lr, grad_norm, rss_mb (and device_mb on CUDA) from callbacks. A figure
// not measured this epoch is absent (an empty metrics.csv cell).
struct EpochRecord {
  int64_t epoch = 0;       // 1-based, as printed
  int64_t batches = 0;     // training batches planned this epoch
  bool validated = false;
  double monitored = NAN;  // the training.monitor metric this epoch; NaN when it was not measured
  MetricsRecord metrics;
};

struct BatchEnd {
  int64_t epoch = 0, batch = 0, batches = 0;  // epoch 0-based, batch 1-based
  double mean_loss = 0;                       // over the epoch so far
  double loss = NAN;                          // this batch's (NaN when it was skipped)
  int64_t samples = 0;                        // over the epoch so far
  bool stepped = false;                       // an optimizer step ended here
  std::optional<double> grad_norm;            // before clipping, when stepped
};

// What a callback may use: the run's settings and files, the model, and the checkpoint writer.
struct FitContext {
  const config::Config& config;
  const RunLayout& layout;
  monitor::MemoryMonitor* monitor;  // null when monitor.enabled is false
  torch::nn::Module& model;
  torch::Device device;
  Counters& counters;
  std::function<void(const std::filesystem::path&)> save_checkpoint;
  std::vector<std::string> target_names;  // metrics.csv's per-target columns
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual std::string name() const = 0;  // unique; its key in checkpoints
  virtual void on_fit_start(FitContext&) {}
  virtual void on_train_epoch_start(FitContext&, EpochRecord&) {}
  virtual void on_train_batch_end(FitContext&, const BatchEnd&) {}
  virtual void on_train_end(FitContext&, EpochRecord&) {}  // the epoch's training pass ended (also when cut short)
  virtual void on_validation_start(FitContext&) {}
  virtual void on_validation_end(FitContext&, EpochRecord&) {}
  // After training (and validation, when it ran): the record is complete.
  virtual void on_train_epoch_end(FitContext&, EpochRecord&) {}
  // The sink phase, after every callback's on_train_epoch_end: write the complete record somewhere.
  virtual void log_metrics(FitContext&, const EpochRecord&) {}
  virtual void on_test_start(FitContext&) {}
  virtual void on_test_end(FitContext&) {}
  virtual void on_stop(FitContext&, RunEnd) {}  // the run ends early, before the final stage
  virtual void on_fit_end(FitContext&, RunEnd) {}
  virtual std::optional<RunEnd> should_stop() const { return std::nullopt; }
  virtual nlohmann::json state_dict() const { return nullptr; }  // null: nothing to save
  virtual void load_state_dict(const nlohmann::json&) {}
};

class CheckpointCallback;

// The callbacks of a run, called in order.
class CallbackList {
 public:
  void add(std::unique_ptr<Callback> callback);
  // The checkpoint callback is called in order like the others and also held typed: the session asks it for
  // the best epoch and to bring checkpoints/last up to a stop.
  void add_checkpoint(std::unique_ptr<CheckpointCallback> checkpoint);
  CheckpointCallback* checkpoint() const { return checkpoint_; }  // null when none was added
  template <typename Hook, typename... Args>
  void call(Hook hook, FitContext& context, Args&&... args) {
    for (auto& c : callbacks_) ((*c).*hook)(context, args...);
  }
  // The epoch is complete: the measure phase (on_train_epoch_end), then the sink phase (log_metrics).
  void end_epoch(FitContext& context, EpochRecord& record);
  std::optional<RunEnd> should_stop() const;  // the first callback's request, in order
  const std::vector<std::unique_ptr<Callback>>& all() const { return callbacks_; }

 private:
  std::vector<std::unique_ptr<Callback>> callbacks_;
  CheckpointCallback* checkpoint_ = nullptr;
};

}  // namespace safetrain::train
