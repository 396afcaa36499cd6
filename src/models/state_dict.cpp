#include "safetrain/models/state_dict.hpp"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/import_read.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/models/export.hpp"

namespace safetrain::models {
namespace {

std::map<std::string, torch::Tensor> named_state(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& item : module.named_parameters(true)) state[item.key()] = item.value();
  for (const auto& item : module.named_buffers(true)) state[item.key()] = item.value();
  return state;
}

std::string shape_text(const torch::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

}  // namespace

void save_state_dict(const torch::nn::Module& module, const std::filesystem::path& file) {
  save_tensor_dict(state_dict(module), file);
}

std::string StateDictReport::summary() const {
  std::ostringstream out;
  auto list = [&](const char* label, const std::vector<std::string>& names) {
    if (names.empty()) return;
    out << label << " (" << names.size() << "):";
    for (const auto& n : names) out << " " << n;
    out << "; ";
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("mis-shaped", mismatched);
  std::string text = out.str();
  return text.empty() ? "all keys match" : text.substr(0, text.size() - 2);
}

StateDictReport load_state_dict(torch::nn::Module& module, const std::filesystem::path& file, bool strict) {
  if (!std::ifstream(file, std::ios::binary)) throw InputError(file.string() + ": cannot open model weights");
  c10::impl::GenericDict dict(c10::StringType::get(), c10::TensorType::get());
  try {
    // Read record by record from the file (torch::pickle_load wants the whole file in memory first:
    // a second copy of the weights at every best-checkpoint load).
    caffe2::serialize::PyTorchStreamReader reader(file.string());
    const auto value = torch::jit::readArchiveAndTensors("data", "", "", std::nullopt, std::nullopt, std::nullopt, reader);
    if (!value.isGenericDict()) throw InputError(file.string() + ": not a tensor dictionary");
    dict = value.toGenericDict();
  } catch (const c10::Error& e) {
    throw InputError(file.string() + ": cannot read model weights (corrupt or not a safetrain checkpoint): " +
                     std::string(e.what_without_backtrace()));
  }
  std::map<std::string, torch::Tensor> stored;
  for (const auto& entry : dict) {
    if (!entry.key().isString() || !entry.value().isTensor()) {
      throw InputError(file.string() + ": entries must map names to tensors");
    }
    stored[entry.key().toStringRef()] = entry.value().toTensor();
  }
  StateDictReport report;
  auto target = named_state(module);
  for (const auto& [name, tensor] : target) {
    const auto found = stored.find(name);
    if (found == stored.end()) report.missing.push_back(name);
    else if (found->second.sizes() != tensor.sizes())
      report.mismatched.push_back(name + ": file " + shape_text(found->second) + " vs model " + shape_text(tensor));
  }
  for (const auto& entry : stored) {
    if (!target.count(entry.first)) report.unexpected.push_back(entry.first);
  }
  // Non-strict loading tolerates names that are missing or extra, never a tensor of another shape:
  // a different architecture would otherwise run with freshly initialised layers and exit 0.
  if (!report.mismatched.empty()) {
    throw InputError(file.string() + ": weights do not fit the model (" + report.summary() +
                     "); a tensor of another shape is never loaded, --strict false or not");
  }
  if (strict && !report.clean()) {
    throw InputError(file.string() + ": weights do not match the model (" + report.summary() +
                     "); predict --strict false loads what matches");
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : target) {
    const auto found = stored.find(name);
    if (found == stored.end()) continue;
    tensor.copy_(found->second.to(tensor.device(), tensor.scalar_type()));
  }
  return report;
}

}  // namespace safetrain::models
