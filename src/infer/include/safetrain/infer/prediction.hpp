#pragma once
// Inference from a checkpoint directory, shared by `predict` and the tests:
// the model loaded safely (inference_model.hpp), the stored feature scaling,
// predictions in the targets' units. Links no trainer, plotting or graph library.
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "safetrain/data/table.hpp"
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

struct Predictions {
  std::vector<std::string> target_names;
  torch::Tensor values;  // [rows, targets], float32, CPU
  models::StateDictReport load_report;
  TextColumns ids;       // the input's id columns (data.id_columns of the training config)
};

// How to read an input CSV for this checkpoint: its id and ignored columns, its features required numeric.
data::CsvColumnRoles prediction_csv_roles(const std::filesystem::path& checkpoint_dir);

// The model's feature columns of `input` (by name, any order), missing values
// handled as in training, scaled, run in batches of `batch_rows` under no-grad.
torch::Tensor predict_values(const InferenceModel& loaded, const data::Table& input, int64_t batch_rows);

// load_for_inference + predict_values.
Predictions predict_table(const std::filesystem::path& checkpoint_dir, const data::Table& input,
                          const PredictOptions& options);

// row_id,[<id column>,...]<name>_pred,... one row per input row, written atomically.
void write_prediction_rows(const Predictions& predictions, const std::filesystem::path& csv);

}  // namespace safetrain::infer
