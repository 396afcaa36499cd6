#include "safetrain/infer/prediction.hpp"

#include "safetrain/config/derived.hpp"
#include "safetrain/config/loader.hpp"

#include <algorithm>
#include <sstream>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/error.hpp"

namespace safetrain::infer {
namespace {

torch::Tensor feature_columns(const data::Table& input, const std::vector<std::string>& names) {
  std::vector<int64_t> indices;
  std::vector<std::string> missing;
  for (const auto& name : names) {
    const auto found = std::find(input.columns.begin(), input.columns.end(), name);
    if (found == input.columns.end()) missing.push_back(name);
    else indices.push_back(found - input.columns.begin());
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 8; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 8) list += ", ...";
    throw InputError(input.source + ": " + std::to_string(missing.size()) +
                     " feature column(s) the model was trained on are missing: " + list);
  }
  return input.values.index_select(1, torch::tensor(indices, torch::kLong));
}

// Missing values become the training mean under data.nan_policy: fill_mean, else an InputError naming the column.
torch::Tensor fill_missing(const InferenceModel& loaded, const data::Table& input, torch::Tensor x) {
  const auto nan_mask = torch::isnan(x);
  if (!nan_mask.any().item<bool>()) return x;
  if (!loaded.fill_missing_with_mean) {
    const auto per_column = nan_mask.sum(0);
    const auto worst = per_column.argmax().item<int64_t>();
    throw InputError(input.source + ": column '" + loaded.feature_names[worst] + "' has " +
                     std::to_string(per_column[worst].item<int64_t>()) +
                     " missing values (the model was trained with data.nan_policy: " + name_of(loaded.nan_policy) +
                     ")");
  }
  return torch::where(nan_mask, loaded.scaling.feature_mean.expand_as(x), x);
}

}  // namespace

torch::Tensor predict_values(const InferenceModel& loaded, const data::Table& input, int64_t batch_rows) {
  auto x = fill_missing(loaded, input, feature_columns(input, loaded.feature_names));
  x = (x - loaded.scaling.feature_mean) / loaded.scaling.feature_std;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < x.size(0); start += batch_rows) {
    const auto rows = std::min(batch_rows, x.size(0) - start);
    parts.push_back(
        loaded.model->forward(x.narrow(0, start, rows).to(loaded.device)).to(torch::kCPU, torch::kFloat));
  }
  const auto scaled = parts.empty() ? torch::zeros({0, loaded.model->spec().outputs}) : torch::cat(parts);
  return scaled * loaded.scaling.target_std + loaded.scaling.target_mean;
}

data::CsvColumnRoles prediction_csv_roles(const std::filesystem::path& checkpoint_dir) {
  const auto meta = read_checkpoint_meta(checkpoint_dir);
  const auto resolved = config::resolve_from_text(meta.config_yaml, (checkpoint_dir / "config.yaml").string());
  auto roles = config::csv_roles(config::make_config(resolved.tree, resolved.file.string()));
  roles.numeric = meta.feature_names();  // targets may be absent from the input; features may not
  roles.numeric_prefix.clear();
  return roles;
}

Predictions predict_table(const std::filesystem::path& checkpoint_dir, const data::Table& input,
                          const PredictOptions& options) {
  const auto loaded = load_for_inference(checkpoint_dir, options.device, options.strict);
  Predictions result;
  result.values = predict_values(loaded, input, options.batch_rows);
  result.target_names = loaded.target_names;
  result.load_report = loaded.load_report;
  result.ids = input.ids;
  return result;
}

void write_prediction_rows(const Predictions& p, const std::filesystem::path& csv) {
  std::ostringstream out;
  out.precision(9);
  out << "row_id";
  for (const auto& name : p.ids.names) out << ',' << name;
  for (const auto& name : p.target_names) out << ',' << name << "_pred";
  out << '\n';
  const auto values = p.values.contiguous();
  const float* data = values.data_ptr<float>();
  const int64_t columns = values.size(1);
  for (int64_t r = 0; r < values.size(0); ++r) {
    out << r;
    for (const auto& column : p.ids.values) out << ',' << column[static_cast<size_t>(r)];
    for (int64_t c = 0; c < columns; ++c) out << ',' << data[r * columns + c];
    out << '\n';
  }
  write_file_atomically(csv, out.str());
}

}  // namespace safetrain::infer
