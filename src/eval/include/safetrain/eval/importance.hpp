#pragma once
// Permutation feature importance on a held-out split: how much the model's MSE rises when one feature's
// values are shuffled across rows (breaking its link to the targets while keeping its distribution).
// Bounded: a seeded sample of at most `max_rows` rows is copied once; every prediction runs on one batch of
// at most `batch_rows` rows under NoGradGuard, so memory is the sample plus one batch whatever the split size.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "safetrain/eval/importance_options.hpp"

namespace safetrain::eval {

struct FeatureImportance {
  std::string feature;
  double mean = 0, std = 0;  // rise of the MSE over the baseline (population std over repeats)
};

struct ImportanceResult {
  std::vector<FeatureImportance> features;  // sorted by mean, largest first (ties: input order)
  double baseline_mse = 0;                  // MSE of the unshuffled sample, averaged over targets
  int64_t rows = 0;                         // rows in the sample
  int64_t repeats = 0;
  int64_t largest_batch_rows = 0;  // the largest batch handed to predict (the memory bound)
  int64_t predicted_rows = 0;      // rows handed to predict in total
};

using Predict = std::function<torch::Tensor(const torch::Tensor&)>;

// x [n, F] and y [n, T] float tensors of one split (the model's own, e.g. standardised, units); predict
// maps a [b, F] CPU batch to [b, T] (any device/dtype; it is moved to the CPU). Throws std::invalid_argument
// on mismatched shapes, an empty split or options below 1.
ImportanceResult permutation_importance(const Predict& predict, const torch::Tensor& x, const torch::Tensor& y,
                                        const std::vector<std::string>& feature_names,
                                        const ImportanceOptions& options = {});

// feature,importance_mean,importance_std, one row per feature in the result's (descending) order; atomic.
void write_importance_csv(const ImportanceResult& result, const std::filesystem::path& csv);

// Horizontal bars of the top_n features (largest at the top) with ±std whiskers, PLplot/pngcairo.
// `loss_name` names the MSE's units on the x axis (e.g. "MSE, standardised targets").
void write_importance_plot(const ImportanceResult& result, const std::filesystem::path& png, int top_n = 20,
                           const std::string& loss_name = "MSE");

}  // namespace safetrain::eval
