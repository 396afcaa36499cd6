// Predicted-vs-true scatter plots for the final validation/test outputs.
#include <plplot.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "plot_stream.hpp"
#include "safetrain/eval/plots.hpp"

namespace safetrain::eval {
namespace {

constexpr Rgb kPointColour{30, 90, 200};
constexpr Rgb kDiagonalColour{200, 40, 40};
constexpr Rgb kGridColour{215, 215, 215};

// Many points overlap: shrink and fade them as N grows so density stays readable.
struct PointStyle {
  double size, alpha;
};
PointStyle point_style_for(int64_t n) {
  if (n <= 200) return {0.9, 0.8};
  if (n <= 2000) return {0.6, 0.5};
  if (n <= 10000) return {0.45, 0.2};
  return {0.35, 0.08};
}

// Grid cells are 420 px wide: beyond this many points a panel only overplots, and drawing them costs time.
constexpr int64_t kGridPointsPerPanel = 2500;

// Evenly spaced rows, at most `limit` of them (all when there are fewer): deterministic, and unbiased
// because the kept rows are already a uniform sample in row-id order.
std::vector<size_t> rows_to_draw(size_t n, int64_t limit) {
  const size_t m = std::min(n, static_cast<size_t>(limit));
  std::vector<size_t> rows(m);
  for (size_t i = 0; i < m; ++i) rows[i] = i * n / m;
  return rows;
}

// Each point is a round-capped stroke of near-zero length: PLplot renders plstring("●") as a text glyph
// through cairo/pango (~19 us a point, 2.5 s of the 5 s stage in bench/plot_bench); pljoin draws the same
// dot for ~3.5 us. PLplot drops zero-length segments, hence the tiny `length`.
void draw_points(const std::vector<double>& x, const std::vector<double>& y, const std::vector<size_t>& rows,
                 double width_px, double length) {
  plwidth(width_px);
  for (size_t i : rows) pljoin(x[i], y[i], x[i] + length, y[i]);
  plwidth(1.0);
}

std::string format_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, std::abs(v) >= 1e4 || (v != 0 && std::abs(v) < 1e-3) ? "%.3e" : "%.4f", v);
  return std::isfinite(v) ? buffer : "n/a";
}

struct Panel {
  std::string name;
  std::vector<double> truth, predicted;
  double mae, r2;
  int64_t count;
};

std::vector<Panel> panels_from(const BufferedOutputs& outputs, const std::vector<std::string>& names,
                               const MetricSummary& metrics) {
  const int64_t n = outputs.size(), dims = static_cast<int64_t>(names.size());
  if (n > 0 && (outputs.predictions.size(1) != dims || outputs.targets.size(1) != dims)) {
    throw std::invalid_argument("write_scatter_plots: outputs have " + std::to_string(outputs.predictions.size(1)) +
                                " columns but " + std::to_string(dims) + " target names");
  }
  const torch::Tensor p = outputs.predictions.to(torch::kDouble).contiguous();
  const torch::Tensor y = outputs.targets.to(torch::kDouble).contiguous();
  std::vector<Panel> panels;
  for (int64_t j = 0; j < dims; ++j) {
    Panel panel;
    panel.name = names[j];
    const auto pick = [&](const std::vector<double>& v) { return j < static_cast<int64_t>(v.size()) ? v[j] : NAN; };
    panel.mae = pick(metrics.mae);
    panel.r2 = pick(metrics.r2);
    panel.count = metrics.count;
    std::vector<double> truth(n), predicted(n);
    for (int64_t i = 0; i < n; ++i) {
      truth[i] = y.data_ptr<double>()[i * dims + j];
      predicted[i] = p.data_ptr<double>()[i * dims + j];
    }
    finite_pairs(truth, predicted, panel.truth, panel.predicted);
    panels.push_back(std::move(panel));
  }
  return panels;
}

// Draws one panel into the current (sub)page. `text_scale` shrinks text in grid cells; at most `max_points` drawn.
void draw_panel(const Panel& panel, const ScatterOptions& options, double text_scale, int64_t max_points) {
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < panel.truth.size(); ++i) {
    lo = std::min({lo, panel.truth[i], panel.predicted[i]});
    hi = std::max({hi, panel.truth[i], panel.predicted[i]});
  }
  const auto [axis_lo, axis_hi] = padded_range(lo, hi);  // same range on both axes

  plschr(0, text_scale);
  plvpor(0.15, 0.95, 0.12, 0.85);
  plvasp(1.0);  // square viewport: y = x is the 45° diagonal
  plwind(axis_lo, axis_hi, axis_lo, axis_hi);
  PlotStream::use_colour(3, kGridColour);
  plbox("g", 0, 0, "g", 0, 0);
  PlotStream::use_colour(1, {0, 0, 0});
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);

  const std::vector<size_t> shown = rows_to_draw(panel.truth.size(), max_points);
  const auto style = point_style_for(static_cast<int64_t>(shown.size()));
  PlotStream::use_colour(2, kPointColour, style.alpha);
  draw_points(panel.truth, panel.predicted, shown, 9.0 * style.size * text_scale, (axis_hi / 2 - axis_lo / 2) * 4e-4);
  PlotStream::use_colour(4, kDiagonalColour, 0.9);
  pllsty(2);
  plwidth(1.5);
  const PLFLT diagonal[2] = {axis_lo, axis_hi};
  plline(2, diagonal, diagonal);
  pllsty(1);
  plwidth(1.0);

  plschr(0, text_scale);
  PlotStream::use_colour(1, {0, 0, 0});
  std::string heading = plplot_text(panel.name) + " (" + plplot_text(options.title_prefix);
  if (options.epoch >= 0) heading += ", epoch " + std::to_string(options.epoch);
  heading += ")";
  const std::string figures = "R² = " + format_number(panel.r2) + "   MAE = " + format_number(panel.mae) +
                              "   N = " + std::to_string(panel.count);
  // Fewer points than N (a bounded buffer, or a grid cell's cap) are said under the axis.
  std::string x_label = "true";
  if (static_cast<int64_t>(shown.size()) != panel.count) {
    x_label += "   (" + std::to_string(shown.size()) + " of " + std::to_string(panel.count) + " points drawn)";
  }
  plmtex("t", 3.2, 0.5, 0.5, heading.c_str());
  plmtex("t", 1.6, 0.5, 0.5, figures.c_str());
  pllab(x_label.c_str(), "predicted", "");
}

}  // namespace

std::string file_safe_name(const std::string& name) {
  std::string out;
  for (unsigned char c : name) out += (std::isalnum(c) || c == '-' || c == '_') ? static_cast<char>(c) : '_';
  return out.empty() ? "target" : out;
}

std::vector<std::filesystem::path> write_scatter_plots(const BufferedOutputs& outputs,
                                                       const std::vector<std::string>& target_names,
                                                       const MetricSummary& metrics,
                                                       const std::filesystem::path& plots_dir,
                                                       const ScatterOptions& options) {
  std::vector<std::filesystem::path> written;
  if (outputs.size() == 0 || target_names.empty()) return written;
  const std::vector<Panel> panels = panels_from(outputs, target_names, metrics);
  const std::string prefix = file_safe_name(options.title_prefix);

  for (const Panel& panel : panels) {
    const auto png = plots_dir / (prefix + "_scatter_" + file_safe_name(panel.name) + ".png");
    PlotStream stream(png, kScatterSizePx, kScatterSizePx);
    pladv(0);
    draw_panel(panel, options, 1.0, std::numeric_limits<int64_t>::max());
    stream.finish();
    written.push_back(png);
  }

  const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(panels.size()))));
  const int rows = static_cast<int>((panels.size() + columns - 1) / columns);
  const auto grid = plots_dir / (prefix + "_scatter_grid.png");
  PlotStream stream(grid, columns * kGridCellPx, rows * kGridCellPx, columns, rows);
  for (size_t k = 0; k < panels.size(); ++k) {
    pladv(static_cast<PLINT>(k + 1));
    draw_panel(panels[k], options, 0.8, kGridPointsPerPanel);
  }
  stream.finish();
  written.push_back(grid);
  return written;
}

std::vector<std::filesystem::path> write_scatter_plots(const BufferedOutputs& outputs,
                                                       const std::vector<std::string>& target_names,
                                                       const StreamingMetrics& metrics,
                                                       const std::filesystem::path& plots_dir,
                                                       const ScatterOptions& options) {
  return write_scatter_plots(outputs, target_names, MetricSummary::from(metrics), plots_dir, options);
}

}  // namespace safetrain::eval
