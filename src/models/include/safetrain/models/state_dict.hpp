#pragma once
// Model weights as a plain name -> tensor dictionary in LibTorch's pickle
// format (export.hpp), so Python's torch.load opens a checkpoint's model.pt or
// an exported weights.pt directly:
//   state = torch.load("weights.pt"); model.load_state_dict(state)
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

namespace safetrain::models {

// Parameters and buffers under their state_dict names, written atomically.
void save_state_dict(const torch::nn::Module& module, const std::filesystem::path& file);

struct StateDictReport {
  std::vector<std::string> missing, unexpected, mismatched;  // mismatched: "name: file [a, b] vs model [c, d]"
  bool clean() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string summary() const;
};

// Copies matching tensors into the module's parameters and buffers (on their
// device). strict: any missing/unexpected/mis-shaped key is an InputError and
// nothing is copied. Non-strict: copies what matches and reports the rest.
StateDictReport load_state_dict(torch::nn::Module& module, const std::filesystem::path& file, bool strict);

}  // namespace safetrain::models
