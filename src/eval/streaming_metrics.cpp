#include "safetrain/eval/streaming_metrics.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace safetrain::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// [n, T] contiguous CPU double copy, detached from any graph.
torch::Tensor as_cpu_double_matrix(const torch::Tensor& t, int64_t dims, const char* what) {
  if (!t.defined()) throw std::invalid_argument(std::string("StreamingMetrics: ") + what + " is undefined");
  torch::Tensor m = t.detach();
  if (m.dim() == 1 && dims == 1) m = m.unsqueeze(1);
  if (m.dim() != 2 || m.size(1) != dims) {
    throw std::invalid_argument(std::string("StreamingMetrics: ") + what + " must be [n, " +
                                std::to_string(dims) + "], got " + std::to_string(m.dim()) + "-d tensor");
  }
  return m.to(torch::kCPU, torch::kDouble).contiguous();
}

double mean_of(const std::vector<double>& values) {
  if (values.empty()) return kNaN;
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

}  // namespace

void StreamingMetrics::CompensatedSum::add(double value) {
  const double t = sum + value;
  if (std::abs(sum) >= std::abs(value)) {
    compensation += (sum - t) + value;
  } else {
    compensation += (value - t) + sum;
  }
  sum = t;
}

StreamingMetrics::StreamingMetrics(std::vector<std::string> target_names, std::vector<double> scales)
    : names_(std::move(target_names)), scales_(std::move(scales)), targets_(names_.size()) {
  if (names_.empty()) throw std::invalid_argument("StreamingMetrics: no target names");
  if (scales_.empty()) scales_.assign(names_.size(), 1.0);
  if (scales_.size() != names_.size()) throw std::invalid_argument("StreamingMetrics: one scale per target");
  for (const double s : scales_) {
    if (!(s > 0) || !std::isfinite(s)) throw std::invalid_argument("StreamingMetrics: scales must be finite and > 0");
  }
}

void StreamingMetrics::update(const torch::Tensor& pred, const torch::Tensor& target) {
  torch::NoGradGuard no_grad;
  const auto dims = static_cast<int64_t>(names_.size());
  const torch::Tensor p = as_cpu_double_matrix(pred, dims, "pred");
  const torch::Tensor y = as_cpu_double_matrix(target, dims, "target");
  if (p.size(0) != y.size(0)) throw std::invalid_argument("StreamingMetrics: pred and target row counts differ");
  const int64_t n = p.size(0);
  if (n == 0) return;
  const double* pp = p.data_ptr<double>();
  const double* yp = y.data_ptr<double>();
  for (int64_t j = 0; j < dims; ++j) {
    TargetAccumulator& acc = targets_[j];
    // Batch mean and M2 of the target (two-pass within the batch), merged with
    // the running values by Chan et al.'s parallel update: stable for large offsets.
    double batch_mean = 0.0;
    for (int64_t i = 0; i < n; ++i) batch_mean += yp[i * dims + j];
    batch_mean /= static_cast<double>(n);
    double batch_m2 = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double y_ij = yp[i * dims + j];
      const double d = y_ij - batch_mean;
      batch_m2 += d * d;
      const double e = pp[i * dims + j] - y_ij;
      acc.squared_error.add(e * e);
      acc.absolute_error.add(std::abs(e));
    }
    const double n_a = static_cast<double>(count_), n_b = static_cast<double>(n);
    const double delta = batch_mean - acc.target_mean;
    const double total = n_a + n_b;
    acc.target_mean += delta * n_b / total;
    acc.target_m2 += batch_m2 + delta * delta * n_a * n_b / total;
  }
  count_ += n;
}

void StreamingMetrics::reset() {
  targets_.assign(names_.size(), TargetAccumulator{});
  count_ = 0;
}

int64_t StreamingMetrics::count() const { return count_; }

double StreamingMetrics::loss() const {
  auto scaled = mse();
  for (size_t j = 0; j < scaled.size(); ++j) scaled[j] /= scales_[j] * scales_[j];
  return mean_of(scaled);
}

std::vector<double> StreamingMetrics::mse() const {
  std::vector<double> out;
  for (const auto& acc : targets_) out.push_back(count_ ? acc.squared_error.value() / count_ : kNaN);
  return out;
}

std::vector<double> StreamingMetrics::mae() const {
  std::vector<double> out;
  for (const auto& acc : targets_) out.push_back(count_ ? acc.absolute_error.value() / count_ : kNaN);
  return out;
}

std::vector<double> StreamingMetrics::r2() const {
  std::vector<double> out;
  for (const auto& acc : targets_) {
    const double sse = acc.squared_error.value();
    if (count_ == 0) {
      out.push_back(kNaN);
    } else if (acc.target_m2 <= 0.0) {
      // Constant target: R² is undefined; follow scikit-learn (1 when exact, else 0).
      out.push_back(sse == 0.0 ? 1.0 : 0.0);
    } else {
      out.push_back(1.0 - sse / acc.target_m2);
    }
  }
  return out;
}

double StreamingMetrics::mean_mae() const {
  auto scaled = mae();
  for (size_t j = 0; j < scaled.size(); ++j) scaled[j] /= scales_[j];
  return mean_of(scaled);
}
double StreamingMetrics::mean_r2() const { return mean_of(r2()); }

nlohmann::json StreamingMetrics::to_json() const {
  const auto finite_or_null = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  nlohmann::json out;
  out["count"] = count_;
  out["loss"] = finite_or_null(loss());
  out["mean_mae"] = finite_or_null(mean_mae());
  out["mean_r2"] = finite_or_null(mean_r2());
  const auto m = mse(), a = mae(), r = r2();
  nlohmann::json targets = nlohmann::json::object();
  for (size_t j = 0; j < names_.size(); ++j) {
    targets[names_[j]] = {{"mse", finite_or_null(m[j])}, {"mae", finite_or_null(a[j])}, {"r2", finite_or_null(r[j])},
                          {"scale", scales_[j]}};
  }
  out["targets"] = std::move(targets);
  return out;
}

std::vector<double> StreamingMetrics::accumulators() const {
  std::vector<double> out{static_cast<double>(count_)};
  for (const auto& acc : targets_) {
    out.insert(out.end(), {acc.squared_error.sum, acc.squared_error.compensation, acc.absolute_error.sum,
                           acc.absolute_error.compensation, acc.target_mean, acc.target_m2});
  }
  return out;
}

void StreamingMetrics::merge(const std::vector<double>& other) {
  if (other.size() != 1 + 6 * targets_.size()) throw std::invalid_argument("StreamingMetrics::merge: wrong size");
  const double n_b = other[0];
  if (n_b <= 0) return;
  const double n_a = static_cast<double>(count_), total = n_a + n_b;
  for (size_t j = 0; j < targets_.size(); ++j) {
    const double* b = other.data() + 1 + 6 * j;
    auto& acc = targets_[j];
    acc.squared_error.add(b[0]);
    acc.squared_error.compensation += b[1];
    acc.absolute_error.add(b[2]);
    acc.absolute_error.compensation += b[3];
    const double delta = b[4] - acc.target_mean;
    acc.target_mean += delta * n_b / total;
    acc.target_m2 += b[5] + delta * delta * n_a * n_b / total;
  }
  count_ += static_cast<int64_t>(n_b);
}

MetricSummary MetricSummary::from(const StreamingMetrics& metrics) {
  return MetricSummary{metrics.count(), metrics.mae(), metrics.r2()};
}

}  // namespace safetrain::eval
