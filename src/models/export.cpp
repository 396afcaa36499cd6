#include "safetrain/models/export.hpp"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/torch.h>

#include "safetrain/common/output_file.hpp"
#include "safetrain/common/streamed_file.hpp"

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

// torch::pickle_save's archive with a plain dictionary, streamed to `sink`: its own pickler tags a typed
// Dict with torch.jit._pickle.restore_type_tag, a global that torch.load refuses by default since
// PyTorch 2.6 (weights_only=True), and it builds the whole file in memory first. Untagged, the file is
// what torch.save(dict) writes and C++ reads it the same; tensors go out one record at a time.
void write_plain_pickle(const c10::IValue& value, const ChunkSink& sink) {
  std::vector<char> pickled;  // the structure only: tensor data is written from the tensors' own storage
  torch::jit::Pickler pickler([&](const char* bytes, size_t size) { pickled.insert(pickled.end(), bytes, bytes + size); },
                              nullptr, nullptr, nullptr, nullptr, /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(value);
  pickler.stop();
  caffe2::serialize::PyTorchStreamWriter writer(sink);
  torch::jit::writeArchiveAndTensors("data", pickled.data(), pickled.size(), pickler.tensorData(), writer);
  writer.writeEndOfFile();
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
  // The output policy (output_file.hpp): export_weights --output may name a symlink, a FIFO or /dev/stdout.
  save_plain_pickle(c10::IValue(dict), path);
}

void save_plain_pickle(const c10::IValue& value, const std::filesystem::path& path) {
  write_output_streamed(path, [&](const ChunkSink& sink) { write_plain_pickle(value, sink); });
}

}  // namespace safetrain::models
