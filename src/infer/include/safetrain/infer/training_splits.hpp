#pragma once
// `predict` on the table a model was trained on: scoring all its rows together mixes rows the model learned
// from with rows it never saw (R² 0.77 against a test R² of 0.62). The checkpoint records the input files the
// run read (input_fingerprint: path, size, time); when predict's input is those files, each row's split is
// re-derived exactly as the trainer split it (data::split_table with the checkpoint's config: seeded rows, or the
// data.split_column labels / data.group_column groups read again from the input) and every split is scored on
// its own.
#include <optional>
#include <string>
#include <vector>

#include "safetrain/infer/checkpoint.hpp"
#include "safetrain/infer/prediction.hpp"

namespace safetrain::infer {

struct TrainingSplits {
  std::string how;                  // why the input counts as the training table, for the log
  std::vector<int8_t> split_of_row;  // per input row: 0 train, 1 val, 2 test, -1 in no split
};

// The trainer's split of `input` (a path or glob, read as `read_as` says) when it is the table `meta` was
// trained on: the same files (name and size; the same time too, or it says it is a copy) and a row count the
// recorded split fits.
std::optional<TrainingSplits> training_splits(const CheckpointMeta& meta, const std::string& input,
                                             const PredictionInput& read_as, int64_t rows);

// Marks each predicted row with its split and, when the input holds the targets, scores each split apart
// (Predictions::split_metrics).
void score_training_splits(const TrainingSplits& splits, Predictions& predictions);

}  // namespace safetrain::infer
