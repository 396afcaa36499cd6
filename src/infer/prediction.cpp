#include "safetrain/infer/prediction.hpp"

#include "safetrain/common/text.hpp"

#include "safetrain/config/derived.hpp"
#include "safetrain/config/loader.hpp"

#include <algorithm>
#include <sstream>

#include "safetrain/common/output_file.hpp"
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

// Which input rows get a prediction: all, unless the model was trained with drop_rows and a
// feature is missing (then the row is skipped and listed); missing values are an InputError under
// nan_policy error and the training mean under fill_mean.
struct RowSelection {
  torch::Tensor features;  // [kept rows, features], raw units
  torch::Tensor kept;      // int64 row indices into the input
  std::vector<int64_t> skipped;
};

RowSelection select_rows(const InferenceModel& loaded, const data::Table& input, torch::Tensor x) {
  RowSelection out;
  const auto nan_mask = torch::isnan(x);
  if (!nan_mask.any().item<bool>()) {
    out.kept = torch::arange(x.size(0), torch::kLong);
    out.features = std::move(x);
    return out;
  }
  if (loaded.nan_policy == data::NanPolicy::fill_mean) {
    out.kept = torch::arange(x.size(0), torch::kLong);
    out.features = torch::where(nan_mask, loaded.scaling.feature_mean.expand_as(x), x);
    return out;
  }
  if (loaded.nan_policy == data::NanPolicy::drop_rows) {
    const auto incomplete = nan_mask.any(1);
    out.kept = torch::nonzero(incomplete.logical_not()).flatten();
    const auto skipped = torch::nonzero(incomplete).flatten().contiguous();
    out.skipped.assign(skipped.data_ptr<int64_t>(), skipped.data_ptr<int64_t>() + skipped.numel());
    out.features = x.index_select(0, out.kept);
    return out;
  }
  const auto per_column = nan_mask.sum(0);
  const auto worst = per_column.argmax().item<int64_t>();
  throw InputError(input.source + ": column '" + loaded.feature_names[worst] + "' has " +
                   std::to_string(per_column[worst].item<int64_t>()) +
                   " missing values (the model was trained with data.nan_policy: " + name_of(loaded.nan_policy) + ")");
}

TextColumns rows_of(const TextColumns& ids, const std::vector<int64_t>& rows) {
  TextColumns out;
  out.names = ids.names;
  for (const auto& column : ids.values) {
    auto& kept = out.values.emplace_back();
    kept.reserve(rows.size());
    for (const auto row : rows) kept.push_back(column[static_cast<size_t>(row)]);
  }
  return out;
}

// Scores the predictions against the input's target columns when it holds every one of them.
void score_against_input_targets(const data::Table& input, const torch::Tensor& kept, const torch::Tensor& target_std,
                                 Predictions& p) {
  std::vector<int64_t> columns;
  for (const auto& name : p.target_names) {
    const auto index = data::column_index(input, name);
    if (index < 0) return;  // plain features: nothing to score
    columns.push_back(index);
  }
  const auto truth = input.values.index_select(1, torch::tensor(columns, torch::kLong)).index_select(0, kept);
  const auto scored = torch::isnan(truth).any(1).logical_not();
  p.unscored_rows = truth.size(0) - scored.sum().item<int64_t>();
  p.truth = truth;
  // The averaged figures in the training loss's units, as the trainer reports them (run_layout.hpp).
  const auto std = target_std.to(torch::kDouble).contiguous().flatten();
  p.target_scales.assign(std.data_ptr<double>(), std.data_ptr<double>() + std.numel());
  p.metrics.emplace(p.target_names, p.target_scales);
  p.metrics->update(p.values.index({scored}), truth.index({scored}));
}

}  // namespace

torch::Tensor predict_values(const InferenceModel& loaded, const torch::Tensor& features, int64_t batch_rows) {
  const auto x = (features - loaded.scaling.feature_mean) / loaded.scaling.feature_std;
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

PredictionInput prediction_input(const std::filesystem::path& checkpoint_dir, const std::vector<std::string>& read_settings) {
  std::vector<config::Override> overrides;
  for (const auto& text : read_settings) {
    auto o = config::parse_override(text);
    if (o.key != "data.format" && o.key.rfind("data.csv.", 0) != 0) {
      throw InputError("--set " + o.key + ": predict sets only how its input is read (data.format, data.csv.*)");
    }
    overrides.push_back(std::move(o));
  }
  const auto meta = read_checkpoint_meta(checkpoint_dir);
  const auto resolved = config::resolve_from_text(meta.config_yaml, (checkpoint_dir / "config.yaml").string(), overrides);
  const auto config = config::make_config(resolved.tree, resolved.file.string());
  auto roles = config::csv_roles(config);
  // The own-split columns came with the training table only: a new table need not hold them.
  for (const auto* own : {&config.data.split.split_column, &config.data.split.group_column}) {
    const auto& listed = config.data.id_columns;
    if (own->empty() || std::find(listed.begin(), listed.end(), *own) != listed.end()) continue;
    roles.id_columns.erase(std::remove(roles.id_columns.begin(), roles.id_columns.end(), *own), roles.id_columns.end());
  }
  roles.numeric = meta.feature_names();  // targets may be absent from the input; features may not
  roles.numeric_prefix.clear();
  roles.only_numeric = false;  // the other numeric columns are read too: the targets, when present, are scored
  roles.missing = data::CsvColumnRoles::MissingCells::allowed;  // predict skips rows by its own rule
  return PredictionInput{config.data.read, roles};
}

Predictions predict_table(const std::filesystem::path& checkpoint_dir, const data::Table& input,
                          const PredictOptions& options) {
  const auto loaded = load_for_inference(checkpoint_dir, options.device, options.strict);
  const auto rows = select_rows(loaded, input, feature_columns(input, loaded.feature_names));
  Predictions result;
  result.target_names = loaded.target_names;
  result.values = predict_values(loaded, rows.features, options.batch_rows);
  const auto kept = rows.kept.contiguous();
  result.row_ids.assign(kept.data_ptr<int64_t>(), kept.data_ptr<int64_t>() + kept.numel());
  result.skipped_rows = rows.skipped;
  result.load_report = loaded.load_report;
  result.ids = rows.skipped.empty() ? input.ids : rows_of(input.ids, result.row_ids);
  score_against_input_targets(input, rows.kept, loaded.scaling.target_std, result);
  return result;
}

void write_prediction_rows(const Predictions& p, const std::filesystem::path& csv) {
  std::ostringstream out;
  out.precision(9);
  const bool with_split = !p.split_of_row.empty(), with_truth = p.truth.defined();
  out << "row_id";
  if (with_split) out << ",split";
  for (const auto& name : p.ids.names) out << ',' << text::csv_field(name);
  for (const auto& name : p.target_names) {
    out << (with_truth ? "," + text::csv_field(name + "_true") : "") << ',' << text::csv_field(name + "_pred");
  }
  out << '\n';
  const auto values = p.values.contiguous();
  const auto truth = with_truth ? p.truth.to(torch::kFloat).contiguous() : torch::Tensor();
  const float* data = values.data_ptr<float>();
  const int64_t columns = values.size(1);
  for (int64_t r = 0; r < values.size(0); ++r) {
    out << p.row_ids[static_cast<size_t>(r)];
    if (with_split) {
      const int8_t s = p.split_of_row[static_cast<size_t>(r)];
      out << ',' << (s >= 0 ? kPredictionSplitNames[s] : "none");
    }
    for (const auto& column : p.ids.values) out << ',' << text::csv_field(column[static_cast<size_t>(r)]);
    for (int64_t c = 0; c < columns; ++c) {
      if (with_truth) out << ',' << truth.data_ptr<float>()[r * columns + c];
      out << ',' << data[r * columns + c];
    }
    out << '\n';
  }
  write_output_file(csv, out.str());
}

std::vector<std::string> prediction_report_lines(const Predictions& p) {
  std::vector<std::string> lines;
  if (!p.skipped_rows.empty()) {
    std::ostringstream line;
    line << "skipped " << p.skipped_rows.size() << " row(s) with a missing feature (data.nan_policy: drop_rows), row_id";
    for (size_t i = 0; i < p.skipped_rows.size() && i < 20; ++i) line << (i ? ", " : " ") << p.skipped_rows[i];
    if (p.skipped_rows.size() > 20) line << ", ... (all in the metrics file)";
    lines.push_back(line.str());
  }
  const auto figures = [&](const eval::StreamingMetrics& m, const std::string& what) {
    std::ostringstream line;
    line.precision(4);
    line << what << " (" << m.count() << " rows):";
    const auto mse = m.mse(), mae = m.mae(), r2 = m.r2();
    for (size_t t = 0; t < p.target_names.size(); ++t) {
      line << (t ? ";" : "") << ' ' << p.target_names[t] << " R2 " << r2[t] << " MAE " << mae[t] << " MSE " << mse[t];
    }
    return line.str();
  };
  if (!p.training_table.empty()) {
    lines.push_back("the input is the table this model was trained on (" + p.training_table +
                    "): rows are split as the trainer split them (column 'split'); only 'test' rows were never used "
                    "in training or model selection");
  }
  if (p.metrics) {
    std::string what = "against the input's targets";
    if (p.unscored_rows > 0) what += " (" + std::to_string(p.unscored_rows) + " with a missing target not scored)";
    if (!p.split_metrics.empty()) what += ", all rows together (training rows included: optimistic)";
    lines.push_back(figures(*p.metrics, what));
  }
  for (const auto& [split, metrics] : p.split_metrics) lines.push_back(figures(metrics, "split " + split));
  return lines;
}

void write_prediction_metrics(const Predictions& p, const std::filesystem::path& json) {
  if (!p.metrics) return;
  auto out = p.metrics->to_json();
  out["unscored_rows"] = p.unscored_rows;
  out["skipped_rows"] = p.skipped_rows;
  if (!p.training_table.empty()) {
    out["training_table"] = p.training_table;
    for (const auto& [split, metrics] : p.split_metrics) out["splits"][split] = metrics.to_json();
  }
  write_output_file(json, out.dump(2) + "\n");
}

}  // namespace safetrain::infer
