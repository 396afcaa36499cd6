#pragma once
// Inference from a checkpoint directory, shared by `predict` and the tests:
// the model loaded safely (inference_model.hpp), the stored feature scaling,
// predictions in the targets' units. Links no trainer, plotting or graph library.
#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "safetrain/data/table.hpp"
#include "safetrain/eval/streaming_metrics.hpp"
#include "safetrain/infer/inference_model.hpp"

#include "safetrain/common/text_columns.hpp"
#include "safetrain/data/data_options.hpp"
#include "safetrain/models/run_kinds.hpp"

namespace safetrain::infer {

struct PredictOptions {
  bool strict = true;
  models::DeviceSetting device = models::DeviceSetting::cpu;
  int64_t batch_rows = 4096;
};

inline constexpr const char* kPredictionSplitNames[] = {"train", "val", "test"};  // Predictions::split_of_row

struct Predictions {
  std::vector<std::string> target_names;
  torch::Tensor values;               // [predicted rows, targets], float32, CPU, in the targets' units
  std::vector<int64_t> row_ids;       // the input's data row (0-based) of each predicted row
  std::vector<int64_t> skipped_rows;  // rows with a missing feature, left out under nan_policy: drop_rows
  models::StateDictReport load_report;
  TextColumns ids;  // the id columns (data.id_columns of the training config) of the predicted rows
  // Exact metrics against the input's own target columns, when it holds all of them
  // (rows whose target is missing are not scored: `unscored_rows`).
  std::optional<eval::StreamingMetrics> metrics;
  int64_t unscored_rows = 0;
  torch::Tensor truth;               // [predicted rows, targets] the input's target values (NaN = missing); undefined
                                     // when the input lacks a target
  std::vector<double> target_scales;  // the training std per target: the averaged figures' units (run_layout.hpp)
  // When the input is the training table (training_splits.hpp): how it was recognised, each predicted row's split
  // (0 train, 1 val, 2 test, -1 none) and each split's metrics.
  std::string training_table;
  std::vector<int8_t> split_of_row;
  std::vector<std::pair<std::string, eval::StreamingMetrics>> split_metrics;
};

// How to read an input table for this checkpoint: the training run's data.format and data.csv.* (then
// `read_settings`, "data.csv.decimal=,": only those keys), its id and ignored columns, its features required
// numeric.
struct PredictionInput {
  data::TableReadOptions read;
  data::CsvColumnRoles roles;
};
PredictionInput prediction_input(const std::filesystem::path& checkpoint_dir,
                                 const std::vector<std::string>& read_settings = {});

// Runs the model over `features` (raw units, no missing values) in batches of `batch_rows` under
// no-grad and returns the predictions in the targets' units.
torch::Tensor predict_values(const InferenceModel& loaded, const torch::Tensor& features, int64_t batch_rows);

// load_for_inference, the model's feature columns of `input` (by name, any order) with missing
// values handled as in training (error, fill_mean, or drop_rows: the row is skipped and listed),
// predict_values, and the metrics when the input holds the targets.
Predictions predict_table(const std::filesystem::path& checkpoint_dir, const data::Table& input,
                          const PredictOptions& options);

// row_id,[split,][<id column>,...]<name>_pred,... one row per predicted row, written atomically; with the
// input's true values beside the predictions (<name>_true,<name>_pred) when the input holds the targets, and the
// trainer's split of each row when the input is the training table.
void write_prediction_rows(const Predictions& predictions, const std::filesystem::path& csv);

// What predict says after writing its rows: the skipped rows (drop_rows) and the metrics, one line each.
std::vector<std::string> prediction_report_lines(const Predictions& predictions);

// The metrics (StreamingMetrics::to_json), unscored and skipped rows as JSON, written atomically;
// only when `predictions.metrics` is set.
void write_prediction_metrics(const Predictions& predictions, const std::filesystem::path& json);

}  // namespace safetrain::infer
