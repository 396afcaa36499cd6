#include "safetrain/models/export.hpp"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
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

// torch::pickle_save's archive with a plain dictionary: its own pickler tags a typed Dict with
// torch.jit._pickle.restore_type_tag, a global that torch.load refuses by default since PyTorch 2.6
// (weights_only=True). Untagged, the file is what torch.save(dict) writes, and C++ reads it the same.
std::vector<char> pickle_save_plain(const c10::IValue& value) {
  std::vector<char> pickled;
  torch::jit::Pickler pickler([&](const char* bytes, size_t size) { pickled.insert(pickled.end(), bytes, bytes + size); },
                              nullptr, nullptr, nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(value);
  pickler.stop();
  std::vector<char> container;
  container.reserve(pickled.size());
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t size) {
    const char* begin = static_cast<const char*>(bytes);
    container.insert(container.end(), begin, begin + size);
    return size;
  });
  torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
  return container;
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
  const std::vector<char> bytes = pickle_save_plain(c10::IValue(dict));
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace safetrain::models
