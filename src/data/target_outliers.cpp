// Target outliers that standardisation cannot survive. Targets are standardised with the training
// rows' mean and std in float32; one cell of 1e30 among values near 1 makes the std ~1e27, so every
// ordinary value maps to the same float32 number (R² 0, val_loss "best", target_true 0 for rows whose
// value is -0.25). Such a column is refused naming the cell; an outlier far out but harmless is warned.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "prepare_steps.hpp"
#include "row_location.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"

namespace safetrain::data::detail {
namespace {

// float32 resolves about 2^-24 of a value: past this many spreads from the median the others collapse.
constexpr double kRefuseSpreads = 16777216.0;
constexpr double kWarnSpreads = 10000.0;
constexpr int64_t kSampleRows = 65536;

double kth(const torch::Tensor& sorted_source, int64_t k) { return std::get<0>(sorted_source.kthvalue(k + 1)).item<double>(); }

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

}  // namespace

void check_target_outliers(const torch::Tensor& train_y, const std::vector<std::string>& names,
                           const torch::Tensor& row_ids, const std::string& source) {
  for (int64_t t = 0; t < train_y.size(1) && train_y.size(0) >= 4; ++t) {
    const auto column = train_y.select(1, t);  // a view: the mapped table is never copied
    // Median and spread from an even sample of at most 65536 rows; extremes by reductions (no copies).
    const int64_t step = std::max<int64_t>(1, column.size(0) / kSampleRows);
    const auto sample = column.index_select(0, torch::arange(0, column.size(0), step));
    const auto present = sample.masked_select(torch::isfinite(sample));
    const int64_t n = present.numel();
    if (n < 4) continue;
    const double median = kth(present, n / 2);
    // The interquartile range, or the mean absolute deviation where more than half the values are equal.
    double spread = kth(present, (3 * n) / 4) - kth(present, n / 4);
    if (spread <= 0) spread = (present - median).abs().mean().item<double>();
    if (!(spread > 0)) continue;  // constant: warn_constant_targets says so
    const int64_t high = column.argmax().item<int64_t>(), low = column.argmin().item<int64_t>();
    const double high_gap = column[high].item<double>() - median, low_gap = median - column[low].item<double>();
    const int64_t at = high_gap >= low_gap ? high : low;
    const double spreads = std::max(high_gap, low_gap) / spread;
    if (!(spreads >= kWarnSpreads)) continue;  // NaN (a missing cell under fill_mean) is not an outlier
    const auto& name = names[static_cast<size_t>(t)];
    const int64_t row_id = row_ids[at].item<int64_t>();
    const std::string cell = "target column '" + name + "' holds " + number(column[at].item<double>()) + " (row_id " +
                             std::to_string(row_id) + "), " + number(spreads) +
                             " times the column's spread (interquartile range " + number(spread) + ") from its median";
    if (spreads >= kRefuseSpreads) {
      throw InputError(cell_location(source, row_id, name) + ": " + cell +
                       ": standardised in float32 beside it, every other value of the column would read the same; " +
                       "fix or remove the row (or write NA with data.nan_policy: drop_rows)");
    }
    log::warn("data: ", cell_location(source, row_id, name), ": ", cell,
              ": an extreme outlier; check it is not a typo or a unit error");
  }
}

}  // namespace safetrain::data::detail
