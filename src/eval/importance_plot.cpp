// plots/importance.png: permutation importance as horizontal bars, the most important feature on top.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "plot_stream.hpp"
#include "safetrain/eval/importance.hpp"
#include "safetrain/eval/plots.hpp"

namespace safetrain::eval {
namespace {

constexpr Rgb kBarColour{30, 90, 200};
constexpr Rgb kGridColour{215, 215, 215};
constexpr int kRowPx = 26;  // one bar per row of text

std::pair<double, double> x_range(const std::vector<FeatureImportance>& shown) {
  double lo = 0, hi = 0;  // the zero line is always visible
  for (const auto& f : shown) {
    lo = std::min(lo, f.mean - f.std);
    hi = std::max(hi, f.mean + f.std);
  }
  return padded_range(lo, hi);
}

void draw_bars(const std::vector<FeatureImportance>& shown) {
  const auto n = static_cast<double>(shown.size());
  std::vector<PLFLT> centres, whisker_lo, whisker_hi;
  PlotStream::use_colour(2, kBarColour, 0.85);
  for (size_t r = 0; r < shown.size(); ++r) {
    const double centre = n - static_cast<double>(r) - 0.5;  // rank 0 at the top
    const PLFLT xs[4] = {0.0, shown[r].mean, shown[r].mean, 0.0};
    const PLFLT ys[4] = {centre - 0.35, centre - 0.35, centre + 0.35, centre + 0.35};
    plfill(4, xs, ys);
    centres.push_back(centre);
    whisker_lo.push_back(shown[r].mean - shown[r].std);
    whisker_hi.push_back(shown[r].mean + shown[r].std);
  }
  PlotStream::use_colour(1, {0, 0, 0});
  plerrx(static_cast<PLINT>(shown.size()), whisker_lo.data(), whisker_hi.data(), centres.data());
  for (size_t r = 0; r < shown.size(); ++r) {
    // Feature names to the left of the axis, one per bar ("v": written parallel to the x axis).
    const double position = (centres[r]) / n;
    plmtex("lv", 0.8, position, 1.0, plplot_text(shown[r].feature).c_str());
  }
}

}  // namespace

void write_importance_plot(const ImportanceResult& result, const std::filesystem::path& png, int top_n,
                           const std::string& loss_name) {
  if (result.features.empty()) throw std::invalid_argument("write_importance_plot: no features");
  if (top_n < 1) throw std::invalid_argument("write_importance_plot: top_n must be at least 1");
  const size_t shown_count = std::min(result.features.size(), static_cast<size_t>(top_n));
  const std::vector<FeatureImportance> shown(result.features.begin(), result.features.begin() + shown_count);
  const int height = std::max(360, 150 + kRowPx * static_cast<int>(shown_count));
  const auto [x_lo, x_hi] = x_range(shown);
  // Long names need a wider left margin; beyond ~28 characters they are allowed to run off the edge.
  size_t longest = 0;
  for (const auto& f : shown) longest = std::max(longest, f.feature.size());
  const double left = 0.06 + 0.0105 * static_cast<double>(std::min<size_t>(longest, 28));

  PlotStream stream(png, kCurveWidthPx, height);
  pladv(0);
  plschr(0, 0.9);
  plvpor(left, 0.96, 90.0 / height, 1.0 - 70.0 / height);
  plwind(x_lo, x_hi, 0.0, static_cast<double>(shown_count));
  PlotStream::use_colour(3, kGridColour);
  plbox("g", 0, 0, "", 0, 0);
  draw_bars(shown);
  PlotStream::use_colour(1, {0, 0, 0});
  const PLFLT zero_x[2] = {0.0, 0.0}, zero_y[2] = {0.0, static_cast<double>(shown_count)};
  plline(2, zero_x, zero_y);
  // "f": plain decimals. PLplot's own "(x10^-3)" sits at the axis's right end, where it ran into the label.
  plbox("bcnstf", 0, 0, "bc", 0, 0);
  std::string title = "Permutation importance";
  if (shown_count < result.features.size()) {
    title += ": top " + std::to_string(shown_count) + " of " + std::to_string(result.features.size()) + " features";
  }
  const std::string subtitle = std::to_string(result.repeats) + " shuffles of " + std::to_string(result.rows) +
                               " validation rows; whiskers ±1 std";
  plmtex("t", 2.6, 0.5, 0.5, title.c_str());
  plmtex("t", 1.1, 0.5, 0.5, subtitle.c_str());
  pllab(("rise of the loss (" + plplot_text(loss_name) + ") when the feature is shuffled").c_str(), "", "");
  stream.finish();
}

}  // namespace safetrain::eval
