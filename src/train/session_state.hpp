#pragma once
// Private to src/train: everything a TrainingSession holds.
#include <torch/torch.h>

#include <memory>
#include <optional>
#include <vector>

#include "safetrain/common/run_dir_lock.hpp"
#include "safetrain/common/run_layout.hpp"
#include "safetrain/data/loader.hpp"
#include "safetrain/data/prepare.hpp"
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

// The exact metrics and the bounded sample of one split's latest evaluation.
struct SplitMeters {
  std::unique_ptr<eval::OutputBuffer> buffer;
  std::unique_ptr<eval::StreamingMetrics> metrics;
  int64_t epoch = -1;  // 1-based epoch of the latest evaluation; -1 = never evaluated
  EvalPieces pieces;   // this split's own evaluation batch, shrunk on out-of-memory errors
};

struct TrainingSession::State {
  config::Config config;
  SessionOptions options;
  std::unique_ptr<RankGroup> ranks = std::make_unique<RankGroup>();  // one process until setup() connects
  RunLayout layout{""};
  std::unique_ptr<RunDirLock> run_lock;  // the writer's, held until the session ends
  torch::Device device{torch::kCPU};
  PrecisionPlan precision;
  std::unique_ptr<monitor::MemoryMonitor> monitor;
  data::PreparedData data;
  nlohmann::json input;  // input_fingerprint.hpp: what this run trains on, kept in every checkpoint
  std::unique_ptr<data::Loader> train_loader, val_loader, test_loader;
  models::RegressionModel model{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<GradScaler> scaler;
  Counters counters;
  CallbackList callbacks;
  std::unique_ptr<FitContext> context;
  SplitMeters val, test;
  bool fit_started = false;
  int64_t largest_val_buffer_bytes = 0, largest_val_buffer_rows = 0;  // for the soak's bound

  State(config::Config c, SessionOptions o) : config(std::move(c)), options(std::move(o)) {}
  StepParts step_parts();
  EvalParts eval_parts(SplitMeters& split, data::Loader& loader);
  Forward forward();
  // Every stateful part's state_dict, by name (the checkpoint's "components").
  nlohmann::json components() const;
  void load_components(const infer::CheckpointMeta& meta);
  void check_world_size(const infer::CheckpointMeta& meta) const;
  void check_same_input(const infer::CheckpointMeta& meta) const;
  void save(const std::filesystem::path& dir);
};

// final_stage.cpp
void write_final_stage(TrainingSession::State& s, RunEnd end);
// Training is over and checkpoints/last is on disk: what only training needs (gradients, the optimizer's
// moments, the training split and its loader) is released, so the test, the plots and importance run
// below training's peak. The model state's size is recorded for the memory report first.
void release_training_state(TrainingSession::State& s);
// Bytes of the split tensors (x, y, row ids): the "data" part of the memory report.
int64_t data_bytes(const data::PreparedData& d);

}  // namespace safetrain::train
