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
constexpr Rgb kBestColour{20, 140, 60};

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

struct Ranges {
  bool log_y;
  std::pair<double, double> x, y;
};

Ranges ranges_of(const std::vector<EpochRow>& rows) {
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
  return {log_y, padded_range(first_epoch, last_epoch),
          log_y ? padded_range(std::log10(lo), std::log10(hi)) : padded_range(lo, hi)};
}

void draw_series(const Series& s, int colour_index, Rgb colour, const char* symbol, double symbol_scale) {
  PlotStream::use_colour(colour_index, colour);
  if (s.x.size() > 1) plline(static_cast<PLINT>(s.x.size()), s.x.data(), s.y.data());
  plschr(0, symbol_scale);
  if (!s.x.empty()) plstring(static_cast<PLINT>(s.x.size()), s.x.data(), s.y.data(), symbol);
  plschr(0, 1.0);
}

// A dashed vertical line at the best epoch and a ring on its validation point; returns whether it was drawn.
bool draw_best_epoch(const std::vector<EpochRow>& rows, int64_t best_epoch, const Series& val, const Ranges& r) {
  const auto row = std::find_if(rows.begin(), rows.end(), [&](const EpochRow& e) { return e.epoch == best_epoch; });
  if (best_epoch < 0 || row == rows.end()) return false;
  const auto x = static_cast<double>(best_epoch);
  PlotStream::use_colour(5, kBestColour);
  pllsty(2);
  const PLFLT xs[2] = {x, x}, ys[2] = {r.y.first, r.y.second};
  plline(2, xs, ys);
  pllsty(1);
  for (size_t i = 0; i < val.x.size(); ++i) {
    if (val.x[i] != x) continue;
    plschr(0, 1.6);
    plstring(1, &val.x[i], &val.y[i], "○");
    plschr(0, 1.0);
  }
  return true;
}

}  // namespace

void write_loss_curve(const std::vector<EpochRow>& rows, const std::filesystem::path& png,
                      const LossCurveOptions& options) {
  if (rows.empty()) throw std::invalid_argument("write_loss_curve: no epochs");
  const Ranges r = ranges_of(rows);
  const Series train = series_of(rows, &EpochRow::train_loss, r.log_y);
  const Series val = series_of(rows, &EpochRow::val_loss, r.log_y);

  PlotStream stream(png, kCurveWidthPx, kCurveHeightPx);
  pladv(0);
  plvpor(0.1, 0.8, 0.12, 0.9);  // the legend sits right of the axes: inside, it covered the curve's end
  plwind(r.x.first, r.x.second, r.y.first, r.y.second);
  PlotStream::use_colour(3, {215, 215, 215});
  plbox("g", 0, 0, r.log_y ? "gl" : "g", 0, 0);
  PlotStream::use_colour(1, {0, 0, 0});
  plbox("bcnst", 0, 0, r.log_y ? "bcnstvl" : "bcnstv", 0, 0);
  const std::string y_label = plplot_text(options.loss_name) + (r.log_y ? " (log scale)" : "");
  pllab("epoch", y_label.c_str(), "Training and validation loss");

  plwidth(2.0);
  draw_series(train, 2, {30, 90, 200}, "•", 1.0);
  draw_series(val, 4, {230, 120, 20}, "●", 0.6);
  plwidth(1.0);
  const bool best_drawn = draw_best_epoch(rows, options.best_epoch, val, r);

  std::vector<LegendEntry> legend{{"train loss", 2}};
  if (!val.x.empty()) legend.push_back({"val loss", 4});
  if (best_drawn) legend.push_back({"best epoch " + std::to_string(options.best_epoch), 5, LegendEntry::kLine, 2});
  draw_legend(legend, LegendPlacement::outside_right);
  stream.finish();
}

}  // namespace safetrain::eval
