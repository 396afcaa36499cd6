// Permutation importance: the computation and importance.csv (the figure is in importance_plot.cpp).
#include "safetrain/eval/importance.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <stdexcept>

#include "csv_table.hpp"
#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/text.hpp"

namespace safetrain::eval {
namespace {

// Row indices of the sample: every row when the split fits, else max_rows distinct rows, in row order.
torch::Tensor sample_rows(int64_t n, int64_t max_rows, std::mt19937_64& rng) {
  std::vector<int64_t> rows(static_cast<size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  if (n > max_rows) {
    for (int64_t i = 0; i < max_rows; ++i) {  // partial Fisher-Yates: the first max_rows are a uniform sample
      std::uniform_int_distribution<int64_t> pick(i, n - 1);
      std::swap(rows[static_cast<size_t>(i)], rows[static_cast<size_t>(pick(rng))]);
    }
    rows.resize(static_cast<size_t>(max_rows));
    std::sort(rows.begin(), rows.end());
  }
  return torch::tensor(rows, torch::kLong);
}

torch::Tensor shuffled_order(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  return torch::tensor(order, torch::kLong);
}

// Streams the sample through predict one batch at a time; `feature` >= 0 takes that column from `replacement`.
class BatchedMse {
 public:
  BatchedMse(const Predict& predict, torch::Tensor x, torch::Tensor y, int64_t batch_rows, ImportanceResult& stats)
      : predict_(predict), x_(std::move(x)), y_(std::move(y)), batch_rows_(batch_rows), stats_(stats) {}

  double operator()(int64_t feature = -1, const torch::Tensor& replacement = {}) const {
    const int64_t n = x_.size(0);
    double squared_error = 0;
    for (int64_t start = 0; start < n; start += batch_rows_) {
      const int64_t end = std::min(n, start + batch_rows_);
      torch::Tensor batch = x_.slice(0, start, end);
      if (feature >= 0) {
        batch = batch.clone();
        batch.select(1, feature).copy_(replacement.slice(0, start, end));
      }
      const torch::Tensor predicted = predict_(batch).to(torch::kCPU, torch::kDouble);
      const torch::Tensor truth = y_.slice(0, start, end);
      if (predicted.sizes() != truth.sizes()) {
        throw std::invalid_argument("permutation_importance: predict returned " + shape(predicted) + " for a batch of " +
                                    std::to_string(end - start) + " rows; expected " + shape(truth));
      }
      squared_error += (predicted - truth).square().sum().item<double>();
      stats_.largest_batch_rows = std::max(stats_.largest_batch_rows, end - start);
      stats_.predicted_rows += end - start;
    }
    return squared_error / static_cast<double>(y_.numel());
  }

 private:
  static std::string shape(const torch::Tensor& t) {
    std::string s = "[";
    for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
    return s + "]";
  }

  const Predict& predict_;
  torch::Tensor x_, y_;
  int64_t batch_rows_;
  ImportanceResult& stats_;
};

void check_inputs(const torch::Tensor& x, const torch::Tensor& y, const std::vector<std::string>& names,
                  const ImportanceOptions& o) {
  if (o.max_rows < 1 || o.repeats < 1 || o.batch_rows < 1) {
    throw std::invalid_argument("permutation_importance: max_rows, repeats and batch_rows must be at least 1");
  }
  if (x.dim() != 2 || y.dim() != 2 || x.size(0) != y.size(0) || x.size(1) != static_cast<int64_t>(names.size())) {
    throw std::invalid_argument("permutation_importance: x must be [n, " + std::to_string(names.size()) +
                                "] and y [n, T] with the same n");
  }
  if (x.size(0) == 0) throw std::invalid_argument("permutation_importance: the split has no rows");
}

}  // namespace

ImportanceResult permutation_importance(const Predict& predict, const torch::Tensor& x, const torch::Tensor& y,
                                        const std::vector<std::string>& feature_names,
                                        const ImportanceOptions& options) {
  check_inputs(x, y, feature_names, options);
  torch::NoGradGuard no_grad;
  std::mt19937_64 rng(options.seed);
  const torch::Tensor rows = sample_rows(x.size(0), options.max_rows, rng);
  // The only copy of the data: the sample, in float32 for the model and double for the error sums.
  const torch::Tensor xs = x.to(torch::kCPU).index_select(0, rows).to(torch::kFloat).contiguous();
  const torch::Tensor ys = y.to(torch::kCPU).index_select(0, rows).to(torch::kDouble).contiguous();

  ImportanceResult result;
  result.rows = xs.size(0);
  result.repeats = options.repeats;
  const BatchedMse mse(predict, xs, ys, options.batch_rows, result);
  result.baseline_mse = mse();
  for (size_t j = 0; j < feature_names.size(); ++j) {
    const auto feature = static_cast<int64_t>(j);
    const torch::Tensor column = xs.select(1, feature);
    double sum = 0, sum_sq = 0;
    for (int64_t r = 0; r < options.repeats; ++r) {
      const double rise = mse(feature, column.index_select(0, shuffled_order(result.rows, rng))) - result.baseline_mse;
      sum += rise;
      sum_sq += rise * rise;
    }
    const double mean = sum / static_cast<double>(options.repeats);
    const double variance = std::max(0.0, sum_sq / static_cast<double>(options.repeats) - mean * mean);
    result.features.push_back({feature_names[j], mean, std::sqrt(variance)});
  }
  std::stable_sort(result.features.begin(), result.features.end(),
                   [](const FeatureImportance& a, const FeatureImportance& b) { return a.mean > b.mean; });
  return result;
}

void write_importance_csv(const ImportanceResult& result, const std::filesystem::path& csv) {
  std::string text = "feature,importance_mean,importance_std\n";
  char numbers[64];
  for (const auto& f : result.features) {
    std::snprintf(numbers, sizeof numbers, ",%.9g,%.9g\n", f.mean, f.std);
    text += text::csv_field(f.feature) + numbers;
  }
  write_file_atomically(csv, text);
}

}  // namespace safetrain::eval
