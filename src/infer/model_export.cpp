#include "safetrain/infer/model_export.hpp"

#include "safetrain/common/enum_names.hpp"
#include "safetrain/models/export.hpp"
#include "safetrain/models/transformer.hpp"

namespace safetrain::infer {
namespace {

using Dict = c10::impl::GenericDict;

Dict new_dict() { return Dict(c10::StringType::get(), c10::AnyType::get()); }

c10::List<std::string> string_list(const std::vector<std::string>& names) {
  c10::List<std::string> list;
  for (const auto& n : names) list.push_back(n);
  return list;
}

// The architecture as the Python loader rebuilds it: what src/models/mlp.cpp and transformer.cpp hard-code
// (ReLU, post-norm encoder layers with LibTorch's eps, mean over tokens) is written out, not implied.
Dict model_description(const models::ModelSpec& spec) {
  Dict m = new_dict();
  m.insert("type", std::string(name_of(spec.type)));
  m.insert("activation", std::string("relu"));
  m.insert("input_features", spec.input_features);
  m.insert("outputs", spec.outputs);
  m.insert("dropout", spec.dropout);
  if (spec.type == models::ModelFamily::mlp) {
    m.insert("hidden", spec.hidden);
    m.insert("mlp_layers", spec.mlp_layers);
    return m;
  }
  m.insert("d_model", spec.d_model);
  m.insert("num_heads", spec.num_heads);
  m.insert("num_layers", spec.num_layers);
  m.insert("dim_feedforward", models::feedforward_dim(spec));
  m.insert("token_type", std::string(name_of(spec.token_type)));
  m.insert("token_width", models::token_width(spec));
  m.insert("tokens", models::token_count(spec));
  m.insert("layer_norm_eps", 1e-5);  // torch::nn::TransformerEncoderLayerOptions' default
  m.insert("norm_first", false);
  m.insert("pooling", std::string("mean"));
  return m;
}

torch::Tensor vector_of(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat).reshape({-1}).clone(); }

}  // namespace

c10::IValue export_contents(const InferenceModel& loaded) {
  Dict scaling = new_dict();
  scaling.insert("feature_mean", vector_of(loaded.scaling.feature_mean));
  scaling.insert("feature_std", vector_of(loaded.scaling.feature_std));
  scaling.insert("target_mean", vector_of(loaded.scaling.target_mean));
  scaling.insert("target_std", vector_of(loaded.scaling.target_std));
  c10::Dict<std::string, torch::Tensor> weights;
  for (const auto& [name, tensor] : models::state_dict(*loaded.model)) weights.insert(name, tensor);
  Dict out = new_dict();
  out.insert("format", std::string(kExportFormat));
  out.insert("format_version", kExportFormatVersion);
  out.insert("model", model_description(loaded.model->spec()));
  out.insert("feature_names", string_list(loaded.feature_names));
  out.insert("target_names", string_list(loaded.target_names));
  out.insert("scaling", scaling);
  out.insert("nan_policy", std::string(name_of(loaded.nan_policy)));
  out.insert("state_dict", weights);
  return out;
}

void export_model(const InferenceModel& loaded, const std::filesystem::path& output) {
  models::save_plain_pickle(export_contents(loaded), output);
}

}  // namespace safetrain::infer
