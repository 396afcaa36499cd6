#pragma once
// Private to src/train: what a TrainingSession holds, in the parts its stages take: what the run owns
// (RunResources), the data it trains on (data::RunData, from the data module), what trains (ModelTraining) and
// what evaluates (Evaluation). The State joins them with the callbacks.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "safetrain/common/run_dir_lock.hpp"
#include "safetrain/common/run_layout.hpp"
#include "safetrain/data/data_module.hpp"
#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/streaming_metrics.hpp"
#include "safetrain/models/regression_model.hpp"
#include "safetrain/monitor/memory_monitor.hpp"
#include "safetrain/train/callback.hpp"
#include "safetrain/infer/checkpoint.hpp"
#include "safetrain/train/grad_scaler.hpp"
#include "safetrain/train/precision.hpp"
#include "safetrain/train/rank_group.hpp"
#include "safetrain/train/session.hpp"
#include "safetrain/train/train_loop.hpp"

namespace safetrain::train {

// What a run owns: its settings, ranks, device, memory monitor and files.
struct RunResources {
  config::Config config;
  SessionOptions options;
  std::unique_ptr<RankGroup> ranks = std::make_unique<RankGroup>();  // one process until setup() connects
  torch::Device device{torch::kCPU};
  std::unique_ptr<monitor::MemoryMonitor> monitor;
  RunLayout layout{""};
  std::unique_ptr<RunDirLock> run_lock;  // the writer's, held until the session ends
};

// What trains: the model, its optimizer and loss scaler, the precision they run in and the counters.
struct ModelTraining {
  PrecisionPlan precision;
  models::RegressionModel model{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<GradScaler> scaler;
  Counters counters;

  Forward forward();
  StepParts step_parts(torch::Device device, StepSync* sync);
};

// The exact metrics and the bounded sample of one split's latest evaluation.
struct SplitMeters {
  std::unique_ptr<eval::OutputBuffer> buffer;
  std::unique_ptr<eval::StreamingMetrics> metrics;
  int64_t epoch = -1;  // 1-based epoch of the latest evaluation; -1 = never evaluated
  EvalPieces pieces;   // this split's own evaluation batch, shrunk on out-of-memory errors
};

// What evaluates: the validation and test meters, and the validation buffer's largest size (for the soak's bound).
struct Evaluation {
  SplitMeters val, test;
  int64_t largest_val_buffer_bytes = 0, largest_val_buffer_rows = 0;
};

struct TrainingSession::State {
  RunResources run;
  data::RunData data;
  nlohmann::json input;  // input_fingerprint.hpp: what this run trains on, kept in every checkpoint
  ModelTraining training;
  Evaluation evaluation;
  CallbackList callbacks;
  std::unique_ptr<FitContext> context;
  bool fit_started = false;

  State(config::Config c, SessionOptions o) {
    run.config = std::move(c);
    run.options = std::move(o);
  }
  StepParts step_parts() { return training.step_parts(run.device, run.ranks->step_sync()); }
  EvalParts eval_parts(SplitMeters& split, data::Loader& loader);
  // Every stateful part's state_dict, by name (the checkpoint's "components").
  nlohmann::json components() const;
  void load_components(const infer::CheckpointMeta& meta);
  void check_same_input(const infer::CheckpointMeta& meta) const;
  void save(const std::filesystem::path& dir);
};

// The ranks' shards, steps per epoch and the sampler's padding depend on the world size, so a run resumes only
// with the one it was written with.
void check_world_size(const RankGroup& ranks, const infer::CheckpointMeta& meta);

// final_stage.cpp
void write_final_stage(TrainingSession::State& s, RunEnd end);
// Training is over and checkpoints/last is on disk: what only training needs (gradients, the optimizer's
// moments, the training split and its loader) is released, so the test, the plots and importance run
// below training's peak. The model state's size is recorded for the memory report first.
void release_training_state(monitor::MemoryMonitor* monitor, ModelTraining& training, data::RunData& data);

}  // namespace safetrain::train
