#pragma once
// A trained model ready for inference, loaded from a checkpoint directory
// (RUN_DIR/checkpoints/best or last, written by the trainer):
//   config.yaml  the run's settings: the model and data.nan_policy
//   state.json   feature_names, target_names
//   extras.pt    feature and target scaling
//   model.pt     the weights (models/state_dict.hpp)
// Safe instantiation first (estimate, free-memory check, build on the CPU),
// then the weights, then the device; eval mode.
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "safetrain/models/regression_model.hpp"
#include "safetrain/models/state_dict.hpp"

namespace safetrain::infer {

struct Scaling {
  torch::Tensor feature_mean, feature_std, target_mean, target_std;
};

struct InferenceModel {
  models::RegressionModel model;  // eval mode, on `device`
  torch::Device device = torch::kCPU;
  std::vector<std::string> feature_names, target_names;
  Scaling scaling;
  bool fill_missing_with_mean = false;  // data.nan_policy was fill_mean
  std::string nan_policy;               // its name, for messages
  models::StateDictReport load_report;
};

// device: "cpu" | "cuda" | "auto". strict: the weights must match the model
// exactly (else InputError); non-strict loads what matches and reports the rest.
InferenceModel load_for_inference(const std::filesystem::path& checkpoint_dir, const std::string& device,
                                  bool strict);

// extras.pt's scaling tensors; InputError naming the file when absent.
Scaling read_scaling(const std::filesystem::path& checkpoint_dir);

}  // namespace safetrain::infer
