#pragma once
// Exact regression metrics over every validation/test sample, accumulated in
// streaming form so they never depend on how many outputs a buffer keeps.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace safetrain::eval {

class StreamingMetrics {
 public:
  // `scales`: each target's unit in the training loss (its training std when targets are standardised); the
  // averaged figures (loss, mean_mae) divide by them so targets in different units count alike. Empty = all 1.
  explicit StreamingMetrics(std::vector<std::string> target_names, std::vector<double> scales = {});

  // pred and target are [n, T] (or [n] when T == 1), any device and dtype;
  // they are detached and copied to CPU double internally.
  void update(const torch::Tensor& pred, const torch::Tensor& target);
  void reset();

  int64_t count() const;                 // samples seen
  // The run's loss (run_layout.hpp): mean over targets of mse / scale² (= torch MSELoss on scaled values).
  double loss() const;
  std::vector<double> mse() const;       // per target, own units
  std::vector<double> mae() const;       // per target, own units
  std::vector<double> r2() const;        // per target; 1 - SSE/SST (constant target: 1 if exact, else 0)
  double mean_mae() const;               // mean over targets of mae / scale
  double mean_r2() const;
  // {"count":..,"loss":..,"mean_mae":..,"mean_r2":..,"targets":{"x":{"mse":..,"mae":..,"r2":..},...}}
  nlohmann::json to_json() const;
  const std::vector<std::string>& target_names() const { return names_; }

  // The accumulators as numbers - count, then per target the squared- and absolute-error sums with their
  // compensations, the target mean and M2 - which data-parallel ranks exchange to combine exactly.
  std::vector<double> accumulators() const;
  // Adds the accumulators of another pass over other rows (Chan's merge for the target's mean and M2):
  // the result is the metrics of the union of both passes' rows.
  void merge(const std::vector<double>& accumulators);

 private:
  // A double sum with Kahan-Babuska (Neumaier) compensation.
  struct CompensatedSum {
    double sum = 0.0, compensation = 0.0;
    void add(double value);
    double value() const { return sum + compensation; }
  };
  struct TargetAccumulator {
    CompensatedSum squared_error, absolute_error;
    double target_mean = 0.0;  // Welford / Chan running mean and M2 of the target
    double target_m2 = 0.0;
  };
  std::vector<std::string> names_;
  std::vector<double> scales_;
  std::vector<TargetAccumulator> targets_;
  int64_t count_ = 0;
};

// What a plot title needs: count and per-target MAE/R², from live metrics or from metrics.json.
struct MetricSummary {
  int64_t count = 0;
  std::vector<double> mae, r2;
  static MetricSummary from(const StreamingMetrics& metrics);
};

}  // namespace safetrain::eval
