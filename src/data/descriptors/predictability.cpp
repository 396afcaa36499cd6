// The second test of passes 3-4. HSIC and RDC measure dependence, not redundancy: a few rare rows shared by
// two count columns (the (0, 4) cell of a crosstab) can drive either to ~1 while neither column tells much
// about the other. A column is dropped only when the kept partner also *predicts* it: the partner's binned
// mapping (the mean of the column per bin of the partner: any monotone or non-monotone function, to the
// bins' resolution) explains at least kMinExplained of its variance, adjusted for the number of bins, on
// the rows the pass saw and again on an independent, disjoint second sample.
#include "predictability.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace safetrain::data::descriptors {
namespace {

constexpr int64_t kMaxBins = 32;          // a partner with more distinct values is cut into equal-count bins
constexpr int64_t kRowsPerBin = 8;        // ... and never into bins of fewer rows than this on average
constexpr int64_t kMinHoldoutRows = 128;  // fewer rows outside the sample: its two random halves instead

// Bin number per row (by sorted partner value; equal values always share a bin) and the number of bins.
int64_t assign_bins(const float* partner, int64_t m, std::vector<int64_t>& bin_of) {
  std::vector<int64_t> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return partner[a] < partner[b]; });
  int64_t distinct = m > 0 ? 1 : 0;
  for (int64_t i = 1; i < m; ++i) distinct += partner[order[i]] != partner[order[i - 1]] ? 1 : 0;
  const int64_t max_bins = std::clamp<int64_t>(m / kRowsPerBin, 2, kMaxBins);
  const double per_bin = static_cast<double>(m) / static_cast<double>(max_bins);
  bin_of.assign(static_cast<size_t>(m), 0);
  int64_t bin = 0, in_bin = 0;
  for (int64_t i = 0; i < m; ++i) {
    const bool new_value = i > 0 && partner[order[i]] != partner[order[i - 1]];
    if (new_value && (distinct <= max_bins || static_cast<double>(in_bin) >= per_bin)) ++bin, in_bin = 0;
    bin_of[static_cast<size_t>(order[i])] = bin;
    ++in_bin;
  }
  return m > 0 ? bin + 1 : 0;
}

}  // namespace

BinnedFit binned_fit(const float* partner, const float* column, int64_t m) {
  std::vector<int64_t> bin_of;
  const int64_t bins = assign_bins(partner, m, bin_of);
  std::vector<double> sum(static_cast<size_t>(bins), 0.0), count(static_cast<size_t>(bins), 0.0);
  double total = 0;
  for (int64_t r = 0; r < m; ++r) {
    sum[static_cast<size_t>(bin_of[static_cast<size_t>(r)])] += column[r];
    count[static_cast<size_t>(bin_of[static_cast<size_t>(r)])] += 1;
    total += column[r];
  }
  const double mean = m > 0 ? total / static_cast<double>(m) : 0.0;
  double sse = 0, sst = 0;
  for (int64_t r = 0; r < m; ++r) {
    const auto b = static_cast<size_t>(bin_of[static_cast<size_t>(r)]);
    sse += std::pow(column[r] - sum[b] / count[b], 2);
    sst += std::pow(column[r] - mean, 2);
  }
  // A column constant on these rows has no variance to explain: no verdict (NaN), so it is kept.
  if (m <= bins || !(sst > 1e-12 * std::max(1.0, mean * mean) * static_cast<double>(m))) {
    return {std::numeric_limits<double>::quiet_NaN(), bins};
  }
  const double r2 = 1.0 - sse / sst;
  return {1.0 - (1.0 - r2) * static_cast<double>(m - 1) / static_cast<double>(m - bins), bins};
}

PredictabilityCheck::PredictabilityCheck(const torch::Tensor& sample, const torch::Tensor& holdout, uint64_t seed)
    : sample_(sample.to(torch::kFloat).contiguous()) {
  if (holdout.defined() && holdout.size(1) >= kMinHoldoutRows) {
    second_ = {holdout.to(torch::kFloat).contiguous()};
    holdout_kind_ = "rows outside the pass sample";
    return;
  }
  // Too few rows outside the sample: the verdict must hold on each of its two disjoint random halves.
  const auto order = torch::randperm(sample_.size(1), at::detail::createCPUGenerator(seed), torch::kLong);
  const auto half = sample_.size(1) / 2;
  second_ = {sample_.index_select(1, order.narrow(0, 0, half)).contiguous(),
             sample_.index_select(1, order.narrow(0, half, sample_.size(1) - half)).contiguous()};
  holdout_kind_ = "two disjoint random halves of the pass sample";
}

int64_t PredictabilityCheck::holdout_rows() const {
  int64_t rows = 0;
  for (const auto& t : second_) rows += t.size(1);
  return rows;
}

Predictability PredictabilityCheck::operator()(int64_t column, int64_t partner) const {
  const auto fit = [&](const torch::Tensor& rows) {
    const float* data = rows.data_ptr<float>();
    const int64_t m = rows.size(1);
    return binned_fit(data + partner * m, data + column * m, m);
  };
  Predictability p;
  const auto first = fit(sample_);
  p.r2_sample = first.adjusted_r2;
  p.bins = first.bins;
  p.r2_holdout = std::numeric_limits<double>::infinity();
  for (const auto& rows : second_) {
    const double r2 = fit(rows).adjusted_r2;
    // The worst part decides; a part without a verdict (NaN) leaves none.
    p.r2_holdout = std::isnan(r2) || std::isnan(p.r2_holdout) ? std::numeric_limits<double>::quiet_NaN()
                                                             : std::min(p.r2_holdout, r2);
  }
  p.predictable = p.r2_sample >= kMinExplained && p.r2_holdout >= kMinExplained;  // false for NaN
  return p;
}

}  // namespace safetrain::data::descriptors
