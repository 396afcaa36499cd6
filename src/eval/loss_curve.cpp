// plots/loss.png: train and validation loss per epoch.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "plot_stream.hpp"
#include "safetrain/eval/plots.hpp"

namespace safetrain::eval {
namespace {

constexpr double kLogScaleRatio = 20.0;  // beyond this spread a linear axis flattens the tail

struct Series {
  std::vector<double> x, y;
};

Series series_of(const std::vector<EpochRow>& rows, double EpochRow::*loss, bool log_y) {
  Series s;
  for (const auto& row : rows) {
    const double v = row.*loss;
    if (!std::isfinite(v) || (log_y && v <= 0)) continue;
    s.x.push_back(static_cast<double>(row.epoch));
    s.y.push_back(log_y ? std::log10(v) : v);
  }
  return s;
}

}  // namespace

void write_loss_curve(const std::vector<EpochRow>& rows, const std::filesystem::path& png) {
  if (rows.empty()) throw std::invalid_argument("write_loss_curve: no epochs");
  double lo = INFINITY, hi = -INFINITY, positive_lo = INFINITY;
  double first_epoch = INFINITY, last_epoch = -INFINITY;
  for (const auto& row : rows) {
    first_epoch = std::min(first_epoch, static_cast<double>(row.epoch));
    last_epoch = std::max(last_epoch, static_cast<double>(row.epoch));
    for (double v : {row.train_loss, row.val_loss}) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (v > 0) positive_lo = std::min(positive_lo, v);
    }
  }
  const bool log_y = std::isfinite(positive_lo) && lo > 0 && hi / positive_lo > kLogScaleRatio;
  const Series train = series_of(rows, &EpochRow::train_loss, log_y);
  const Series val = series_of(rows, &EpochRow::val_loss, log_y);
  const auto [y_lo, y_hi] = log_y ? padded_range(std::log10(lo), std::log10(hi)) : padded_range(lo, hi);
  const auto [x_lo, x_hi] = padded_range(first_epoch, last_epoch);

  PlotStream stream(png, kCurveWidthPx, kCurveHeightPx);
  pladv(0);
  plvpor(0.1, 0.95, 0.12, 0.9);
  plwind(x_lo, x_hi, y_lo, y_hi);
  PlotStream::use_colour(3, {215, 215, 215});
  plbox("g", 0, 0, log_y ? "gl" : "g", 0, 0);
  PlotStream::use_colour(1, {0, 0, 0});
  plbox("bcnst", 0, 0, log_y ? "bcnstvl" : "bcnstv", 0, 0);
  pllab("epoch", log_y ? "loss (log scale)" : "loss", "Training and validation loss");

  plwidth(2.0);
  PlotStream::use_colour(2, {30, 90, 200});
  if (train.x.size() > 1) plline(static_cast<PLINT>(train.x.size()), train.x.data(), train.y.data());
  if (!train.x.empty()) plstring(static_cast<PLINT>(train.x.size()), train.x.data(), train.y.data(), "•");
  PlotStream::use_colour(4, {230, 120, 20});
  if (val.x.size() > 1) plline(static_cast<PLINT>(val.x.size()), val.x.data(), val.y.data());
  plschr(0, 0.6);
  if (!val.x.empty()) plstring(static_cast<PLINT>(val.x.size()), val.x.data(), val.y.data(), "●");
  plschr(0, 1.0);
  plwidth(1.0);

  std::vector<LegendEntry> legend{{"train loss", 2}};
  if (!val.x.empty()) legend.push_back({"val loss", 4});
  draw_legend(legend);
  stream.finish();
}

}  // namespace safetrain::eval
