#include "safetrain/infer/inference_model.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/device.hpp"
#include "safetrain/config/loader.hpp"

namespace fs = std::filesystem;

namespace safetrain::infer {

InferenceModel load_for_inference(const fs::path& dir, models::DeviceSetting device, bool strict) {
  const auto meta = read_checkpoint_meta(dir);  // format version and every file's checksum checked
  InferenceModel out;
  out.feature_names = meta.feature_names();
  out.target_names = meta.target_names();
  const auto resolved = config::resolve_from_text(meta.config_yaml, (dir / "config.yaml").string());
  const auto config = config::make_config(resolved.tree, resolved.file.string());
  out.nan_policy = config.data.split.nan_policy;
  out.fill_missing_with_mean = out.nan_policy == data::NanPolicy::fill_mean;
  out.scaling = read_scaling(dir);
  out.device = models::resolve_device(device);
  const auto spec = model_spec_from(config, static_cast<int64_t>(out.feature_names.size()), out.target_names);
  out.model = build_checked_model(spec, config, out.device, /*training=*/false);
  out.load_report = models::load_state_dict(*out.model, dir / "model.pt", strict);
  if (!out.load_report.clean()) log::warn("weights loaded non-strictly: ", out.load_report.summary());
  out.model->eval();
  return out;
}

}  // namespace safetrain::infer
