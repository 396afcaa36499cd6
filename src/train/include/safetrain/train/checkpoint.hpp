#pragma once
// A checkpoint is a directory (checkpoints/last, checkpoints/best) holding:
//   model.pt      weights, a torch.load-compatible tensor dictionary
//   optimizer.pt  optimizer state (LibTorch archive)
//   extras.pt     feature/target scaling and RNG state (LibTorch archive)
//   state.json    counters, scaler/schedule/early-stopping state, column names
//   config.yaml   the resolved config the run used
// It is written into a temporary sibling directory, every file fsynced, then
// swapped in with one atomic rename: a crash leaves the old or the new one.
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "safetrain/train/grad_scaler.hpp"
#include "safetrain/train/optimization.hpp"

namespace safetrain::train {

struct TrainingState {
  int64_t epochs_completed = 0;
  int64_t global_step = 0;        // optimizer steps
  double best_metric = std::numeric_limits<double>::infinity();
  int64_t best_epoch = -1;
  int64_t nan_skipped = 0;
  GradScalerState scaler;
  LearningRateSchedule::State schedule;
  ImprovementTracker early_stopping;
  std::vector<std::string> feature_names, target_names;
  std::string model_type;
};

struct ScalingTensors {
  torch::Tensor feature_mean, feature_std, target_mean, target_std;
};

struct CheckpointWrite {
  const torch::nn::Module* model = nullptr;
  torch::optim::Optimizer* optimizer = nullptr;   // may be null (weights-only)
  ScalingTensors scaling;
  TrainingState state;
  std::string config_yaml;
};

// Every file is serialised in memory and written with checked writes, fsynced, then the
// directory is swapped into place. On failure the previous checkpoint at `dir` is kept, the
// staging directory removed, and IoError (DiskFullError on ENOSPC: "disk full at PATH (N MB
// free)") is thrown; std::bad_alloc when memory runs out while serialising.
void save_checkpoint(const std::filesystem::path& dir, const CheckpointWrite& contents);

struct CheckpointMeta {
  std::filesystem::path dir;
  TrainingState state;
  std::string config_yaml;
};

// Reads state.json and config.yaml; InputError naming the file when missing or corrupt.
CheckpointMeta read_checkpoint_meta(const std::filesystem::path& dir);
ScalingTensors read_scaling(const std::filesystem::path& dir);
void load_optimizer_state(const std::filesystem::path& dir, torch::optim::Optimizer& optimizer);
void restore_rng_state(const std::filesystem::path& dir);

}  // namespace safetrain::train
