#include "safetrain/data/leak_checks.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "safetrain/common/log.hpp"

namespace safetrain::data {
namespace {

// Source-order positions of the rows: 0..n-1, or the rows sorted by their row_id.
std::vector<int64_t> source_order(int64_t rows, const torch::Tensor& row_ids) {
  std::vector<int64_t> order(static_cast<size_t>(rows));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!row_ids.defined()) return order;
  const auto ids = row_ids.to(torch::kLong).contiguous();
  const auto* id = ids.data_ptr<int64_t>();
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return id[a] < id[b]; });
  return order;
}

bool is_counter(const float* data, int64_t stride, const std::vector<int64_t>& order) {
  int direction = 0;  // +1 increasing, -1 decreasing, 0 not yet known
  float previous = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const float v = data[order[i] * stride];
    if (!std::isfinite(v) || v != std::floor(v)) return false;
    if (i > 0) {
      const int step = v > previous ? 1 : v < previous ? -1 : 0;
      if (step == 0 || (direction != 0 && step != direction)) return false;
      direction = step;
    }
    previous = v;
  }
  return true;
}

std::string figure(double r) {
  std::ostringstream text;
  text.precision(7);  // 0.9999995, not a rounded 1.000000
  text << r;
  return text.str();
}

}  // namespace

std::vector<IdLikeColumn> id_like_columns(const torch::Tensor& values, const torch::Tensor& row_ids,
                                          const std::vector<std::string>& columns,
                                          const std::vector<std::string>& candidates) {
  std::vector<IdLikeColumn> found;
  const int64_t rows = std::min(values.size(0), kIdSampleRows);
  if (rows < kIdMinRows || values.scalar_type() != torch::kFloat) return found;
  const auto order = source_order(rows, row_ids.defined() ? row_ids.narrow(0, 0, rows) : row_ids);
  const float* data = values.data_ptr<float>();
  for (size_t c = 0; c < columns.size(); ++c) {
    if (std::find(candidates.begin(), candidates.end(), columns[c]) == candidates.end()) continue;
    const float* column = data + static_cast<int64_t>(c) * values.stride(1);
    if (!is_counter(column, values.stride(0), order)) continue;
    found.push_back({columns[c], column[order.front() * values.stride(0)], column[order.back() * values.stride(0)],
                     rows});
  }
  return found;
}

std::vector<LeakFinding> near_copies_of_targets(const PreparedData& data) {
  std::vector<LeakFinding> found;
  const auto& x = data.train.x;
  const auto& y = data.train.y;
  if (!x.defined() || !y.defined() || x.size(0) < 3) return found;
  const int64_t width = std::max<int64_t>(1, x.size(1) + y.size(1));
  const int64_t rows = std::min<int64_t>(x.size(0), std::max<int64_t>(2000, kLeakSampleCells / width));
  // Pearson r is unchanged by the standardisation the splits already carry; double sums for 0.999 to mean it.
  auto xs = x.narrow(0, 0, rows).to(torch::kDouble);
  auto ys = y.narrow(0, 0, rows).to(torch::kDouble);
  xs.sub_(xs.mean(0));  // in place: the sample is the check's only copy of the rows
  ys.sub_(ys.mean(0));
  const auto r = (xs.t().matmul(ys) / torch::outer(xs.norm(2, 0), ys.norm(2, 0))).contiguous();
  const auto* p = r.data_ptr<double>();
  for (int64_t f = 0; f < r.size(0); ++f) {
    for (int64_t t = 0; t < r.size(1); ++t) {
      const double value = p[f * r.size(1) + t];
      if (!std::isfinite(value) || std::abs(value) < kLeakCorrelation) continue;  // NaN: a constant column
      found.push_back({data.feature_names[static_cast<size_t>(f)], data.target_names[static_cast<size_t>(t)], value,
                       rows});
    }
  }
  return found;
}

std::vector<std::string> warn_about_leaks(const PreparedData& data, const std::vector<IdLikeColumn>& id_like,
                                          bool features_listed) {
  const auto leave_out = [&](const std::string& column) {
    return features_listed ? "leave it out: remove '" + column + "' from data.features"
                           : "leave it out: data.ignore_columns: [" + column + "]";
  };
  std::vector<std::string> lines;
  for (const auto& leak : near_copies_of_targets(data)) {
    lines.push_back("data: possible leak: feature '" + leak.feature + "' predicts target '" + leak.target +
                    "' almost exactly (Pearson r " + figure(leak.r) + " on " + std::to_string(leak.rows) +
                    " training rows); if it is derived from the target, " + leave_out(leak.feature));
  }
  for (const auto& column : id_like) {
    const auto& features = data.feature_names;
    if (std::find(features.begin(), features.end(), column.name) == features.end()) continue;
    std::ostringstream range;
    range << std::fixed << std::setprecision(0) << column.first << " to " << column.last;
    lines.push_back("data: feature '" + column.name + "' looks like a row id (integers " + range.str() +
                    ", unique and monotone over " + std::to_string(column.rows) + " rows): a model can only memorise "
                    "it; " + leave_out(column.name) + " (data.id_columns: [" + column.name +
                    "] keeps it in the predictions files)");
  }
  for (const auto& line : lines) log::warn(line);
  return lines;
}

}  // namespace safetrain::data
