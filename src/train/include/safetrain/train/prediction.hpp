#pragma once
// Inference from a checkpoint directory, shared by `predict` and the tests:
// safe instantiation, weights mapped to the CPU then the device, eval mode,
// no grad, the stored feature scaling, predictions in the targets' units.
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "safetrain/data/table.hpp"
#include "safetrain/data/data_options.hpp"
#include "safetrain/train/state_dict.hpp"
#include "safetrain/train/training_options.hpp"

namespace safetrain::train {

struct PredictOptions {
  bool strict = true;
  DeviceSetting device = DeviceSetting::cpu;
  int64_t batch_rows = 4096;
};

struct Predictions {
  std::vector<std::string> target_names;
  torch::Tensor values;          // [rows, targets], float32, CPU
  StateDictReport load_report;
  TextColumns ids;               // the input's id columns (data.id_columns of the training config)
};

// How to read an input CSV for this checkpoint: its id and ignored columns, its features required numeric.
data::CsvColumnRoles prediction_csv_roles(const std::filesystem::path& checkpoint_dir);

Predictions predict_table(const std::filesystem::path& checkpoint_dir, const data::Table& input,
                          const PredictOptions& options);

// row_id,<name>_pred,... one row per input row, written atomically.
void write_prediction_rows(const Predictions& predictions, const std::filesystem::path& csv);

}  // namespace safetrain::train
