#pragma once
// Private to src/train: everything a TrainingSession holds.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "safetrain/data/loader.hpp"
#include "safetrain/data/prepare.hpp"
#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/plots.hpp"
#include "safetrain/eval/streaming_metrics.hpp"
#include "safetrain/models/regression_model.hpp"
#include "safetrain/monitor/memory_monitor.hpp"
#include "safetrain/train/checkpoint.hpp"
#include "safetrain/train/grad_scaler.hpp"
#include "safetrain/train/optimization.hpp"
#include "safetrain/train/precision.hpp"
#include "safetrain/train/progress.hpp"
#include "safetrain/train/run_files.hpp"
#include "safetrain/train/session.hpp"

namespace safetrain::train {

struct TrainingSession::State {
  Config config;
  SessionOptions options;
  std::filesystem::path run_dir;
  torch::Device device{torch::kCPU};
  PrecisionPlan precision;
  std::unique_ptr<monitor::MemoryMonitor> monitor;
  data::PreparedData data;
  std::unique_ptr<data::Loader> train_loader, val_loader, test_loader;
  models::RegressionModel model{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<GradScaler> scaler;
  std::unique_ptr<LearningRateSchedule> schedule;
  std::unique_ptr<EarlyStopping> early_stopping;
  TrainingState progress_state;
  std::unique_ptr<eval::OutputBuffer> val_buffer, test_buffer;
  std::unique_ptr<eval::StreamingMetrics> val_metrics, test_metrics;
  int64_t last_validated_epoch = -1;
  std::vector<eval::EpochRow> curve;
  std::unique_ptr<MetricsLog> metrics_log;
  std::unique_ptr<Progress> progress;
  std::vector<torch::Tensor> planted_leak;  // debug.plant_leak_mb_per_epoch only
  int64_t batches_since_trim = 0;
  int64_t largest_val_buffer_bytes = 0, largest_val_buffer_rows = 0;  // for the soak's bound
  bool tested = false;

  State(Config c, SessionOptions o) : config(std::move(c)), options(std::move(o)) {}
  ScalingTensors scaling() const;
  void save(const std::filesystem::path& dir);
};

// epoch_steps.cpp
struct TrainPass { double mean_loss = 0; int64_t samples = 0; double seconds = 0, loader_wait_seconds = 0; std::optional<RunEnd> stop; };
TrainPass train_one_epoch(TrainingSession::State& s, int64_t epoch);
struct EvalPass { double loss = 0; int64_t samples = 0; };
EvalPass evaluate(TrainingSession::State& s, data::Loader& loader, eval::StreamingMetrics& metrics,
                  eval::OutputBuffer& buffer, int64_t epoch);
void trim_memory(TrainingSession::State& s);

// final_stage.cpp
void write_final_stage(TrainingSession::State& s);

}  // namespace safetrain::train
