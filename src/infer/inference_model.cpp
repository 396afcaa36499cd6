#include "safetrain/infer/inference_model.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/device.hpp"
#include "safetrain/train/config_loader.hpp"

namespace fs = std::filesystem;

namespace safetrain::infer {
namespace {

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": missing from the checkpoint (incomplete or not a safetrain checkpoint)");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The column names from state.json; the rest of it is the trainer's to resume from.
void read_column_names(const fs::path& dir, InferenceModel& out) {
  const fs::path file = dir / "state.json";
  try {
    const auto j = nlohmann::json::parse(read_text(file));
    out.feature_names = j.at("feature_names").get<std::vector<std::string>>();
    out.target_names = j.at("target_names").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string() + ": corrupt checkpoint state: " + e.what());
  }
}

}  // namespace

Scaling read_scaling(const fs::path& dir) {
  const fs::path file = dir / "extras.pt";
  Scaling s;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file.string());
    archive.read("feature_mean", s.feature_mean);
    archive.read("feature_std", s.feature_std);
    archive.read("target_mean", s.target_mean);
    archive.read("target_std", s.target_std);
  } catch (const c10::Error& e) {
    throw InputError(file.string() + ": cannot read the scaling (corrupt checkpoint?): " + e.what_without_backtrace());
  }
  return s;
}

InferenceModel load_for_inference(const fs::path& dir, const std::string& device, bool strict) {
  if (!fs::is_directory(dir))
    throw InputError(dir.string() + ": no such checkpoint directory (expected RUN_DIR/checkpoints/last or best)");
  InferenceModel out;
  read_column_names(dir, out);
  const auto resolved = train::resolve_from_text(read_text(dir / "config.yaml"), (dir / "config.yaml").string());
  const auto config = train::make_config(resolved.tree, resolved.file.string());
  out.nan_policy = config.data.nan_policy;
  out.fill_missing_with_mean = config.data.nan_policy == "fill_mean";
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
