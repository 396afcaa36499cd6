#include "safetrain/models/export.hpp"

#include <torch/torch.h>

#include "safetrain/common/atomic_file.hpp"

namespace safetrain::models {
namespace {

// A dictionary entry owns exactly its own bytes: pickling a view would write
// the whole storage it points into.
// Copies only when needed (a view, a strided or a device tensor).
torch::Tensor owned_cpu_copy(const torch::Tensor& t) {
  torch::Tensor cpu = t.detach().to(torch::kCPU).contiguous();
  const bool owns_storage = cpu.storage_offset() == 0 &&
                            cpu.storage().nbytes() == static_cast<size_t>(cpu.numel()) * cpu.element_size();
  return owns_storage ? cpu : cpu.clone();
}

}  // namespace

NamedTensors state_dict(const torch::nn::Module& model) {
  NamedTensors out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), owned_cpu_copy(item.value()));
  for (const auto& item : model.named_buffers(/*recurse=*/true)) out.emplace_back(item.key(), owned_cpu_copy(item.value()));
  return out;
}

void save_tensor_dict(const NamedTensors& tensors, const std::filesystem::path& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [name, tensor] : tensors) dict.insert(name, owned_cpu_copy(tensor));
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace safetrain::models
