#pragma once
// Weights as a tensor dictionary that Python opens with torch.load (LibTorch's
// pickle format, torch::pickle_save of a Dict<str, Tensor>), written atomically.
// A model's weights: save_state_dict / load_state_dict (state_dict.hpp).
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/ivalue.h>
#include <torch/nn/module.h>

namespace safetrain::models {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Parameters and buffers under their state_dict names, detached owned CPU copies.
NamedTensors state_dict(const torch::nn::Module& model);

// Any named tensors (detached, moved to the CPU, contiguous) as one dictionary.
void save_tensor_dict(const NamedTensors& tensors, const std::filesystem::path& path);

// Any value of plain parts (dict with str keys, list, str, int, float, bool, None, tensor) as the file
// torch.save writes for it: torch.load(path, weights_only=True) opens it. Written like save_tensor_dict.
void save_plain_pickle(const c10::IValue& value, const std::filesystem::path& path);

}  // namespace safetrain::models
