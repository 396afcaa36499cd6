#pragma once
// A self-describing export: one file Python opens with torch alone (torch.load(path, weights_only=True)),
// read by python/safetrain_model.py. A dictionary of plain values:
//   format "safetrain-model", format_version 1
//   model          {type, activation, input_features, outputs, dropout, hidden, mlp_layers | d_model, num_heads,
//                   num_layers, dim_feedforward (resolved), token_type, token_width, tokens, layer_norm_eps,
//                   norm_first, pooling}: everything to rebuild the module of src/models
//   feature_names  the input columns, in the order the model reads them
//   target_names   the outputs, in order
//   scaling        {feature_mean, feature_std, target_mean, target_std}: float32 vectors; the model sees
//                  (x - feature_mean) / feature_std and its output * target_std + target_mean is in target units
//   nan_policy     "error" | "fill_mean" (a missing feature becomes feature_mean) | "drop_rows"
//   state_dict     name -> tensor, the module's parameters and buffers
#include <ATen/core/ivalue.h>

#include <filesystem>

#include "safetrain/infer/inference_model.hpp"

namespace safetrain::infer {

inline constexpr const char* kExportFormat = "safetrain-model";
inline constexpr int64_t kExportFormatVersion = 1;

c10::IValue export_contents(const InferenceModel& loaded);
// Written as models::save_plain_pickle writes (a symlink's target, a FIFO or /dev/stdout in place).
void export_model(const InferenceModel& loaded, const std::filesystem::path& output);

}  // namespace safetrain::infer
