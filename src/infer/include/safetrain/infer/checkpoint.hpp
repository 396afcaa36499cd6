#pragma once
// A checkpoint is a directory (checkpoints/last, checkpoints/best) holding:
//   model.pt      weights, a torch.load-compatible tensor dictionary
//   optimizer.pt  optimizer state (LibTorch archive)
//   scaling.pt    feature/target standardisation (LibTorch archive)
//   rng.pt        the CPU generator's state (LibTorch archive)
//   state.json    {"format": "safetrain-checkpoint", "format_version": 2, "components": {name: state}}:
//                 each stateful part's own state_dict (counters, data columns, model family, loss scaler,
//                 every callback that keeps state), so a new part adds itself without touching this file
//   config.yaml   the resolved config the run used
// It is written into a temporary sibling directory, every file fsynced, then
// swapped in with one atomic rename: a crash leaves the old or the new one.
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace safetrain::infer {

inline constexpr const char* kCheckpointFormat = "safetrain-checkpoint";
inline constexpr int kCheckpointFormatVersion = 2;

struct ScalingTensors {
  torch::Tensor feature_mean, feature_std, target_mean, target_std;
};

struct CheckpointWrite {
  const torch::nn::Module* model = nullptr;
  torch::optim::Optimizer* optimizer = nullptr;  // may be null (weights-only)
  ScalingTensors scaling;
  nlohmann::json components = nlohmann::json::object();  // name -> that part's state_dict
  std::string config_yaml;
};

// Every file is streamed record by record into a staging directory with checked writes (no
// whole-file buffer: the write adds no copy of the weights or moments to the peak), fsynced, then the
// directory is swapped into place. On failure the previous checkpoint at `dir` is kept, the
// staging directory removed, and IoError (DiskFullError on ENOSPC: "disk full at PATH (N MB
// free)") is thrown; std::bad_alloc when memory runs out while serialising.
void save_checkpoint(const std::filesystem::path& dir, const CheckpointWrite& contents);

struct CheckpointMeta {
  std::filesystem::path dir;
  nlohmann::json components;
  std::string config_yaml;
  // The parts every reader needs; InputError naming state.json when absent.
  const nlohmann::json& component(const std::string& name) const;
  std::vector<std::string> feature_names() const;
  std::vector<std::string> target_names() const;
  int64_t epochs_completed() const;
};

// Reads state.json and config.yaml; InputError naming the file when missing, corrupt or of another format version.
CheckpointMeta read_checkpoint_meta(const std::filesystem::path& dir);
ScalingTensors read_scaling(const std::filesystem::path& dir);
void load_optimizer_state(const std::filesystem::path& dir, torch::optim::Optimizer& optimizer);
void restore_rng_state(const std::filesystem::path& dir);

}  // namespace safetrain::infer
