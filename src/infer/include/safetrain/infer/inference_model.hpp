#pragma once
// A trained model ready for inference, loaded from a checkpoint directory
// (RUN_DIR/checkpoints/best or last, written by the trainer):
//   config.yaml  the run's settings: the model and data.nan_policy
//   state.json   the "data" component: feature_names, target_names (checksums of every file verified)
//   scaling.pt   feature and target scaling
//   model.pt     the weights (models/state_dict.hpp)
// Safe instantiation first (estimate, free-memory check, build on the CPU),
// then the weights, then the device; eval mode.
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "safetrain/models/regression_model.hpp"
#include "safetrain/models/state_dict.hpp"

#include "safetrain/infer/checkpoint.hpp"
#include "safetrain/models/run_kinds.hpp"
#include "safetrain/data/data_options.hpp"

namespace safetrain::infer {

struct InferenceModel {
  models::RegressionModel model;  // eval mode, on `device`
  torch::Device device = torch::kCPU;
  std::vector<std::string> feature_names, target_names;
  ScalingTensors scaling;
  bool fill_missing_with_mean = false;  // data.nan_policy was fill_mean
  data::NanPolicy nan_policy = data::NanPolicy::error;
  models::StateDictReport load_report;
};

// device: "cpu" | "cuda" | "auto". strict: the weights must match the model
// exactly (else InputError); non-strict loads what matches and reports the rest.
InferenceModel load_for_inference(const std::filesystem::path& checkpoint_dir, models::DeviceSetting device,
                                  bool strict);

}  // namespace safetrain::infer
