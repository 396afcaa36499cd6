// plots/memory.png: the monitor's samples over time, phases shaded, warnings marked.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "csv_table.hpp"
#include "plot_stream.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/eval/plots.hpp"

namespace safetrain::eval {
namespace {

struct MemorySeries {
  const char* column;
  const char* label;
  Rgb colour;
  int line_style;
};
constexpr MemorySeries kSeries[] = {
    {"rss_mb", "RSS (MB)", {30, 90, 200}, 1},
    {"cuda_allocated_mb", "CUDA allocated (MB)", {20, 150, 60}, 1},
    {"cuda_reserved_mb", "CUDA reserved (MB)", {130, 60, 170}, 2},
    {"nvml_used_mb", "device used, NVML (MB)", {230, 120, 20}, 3},
};
constexpr Rgb kPhaseColours[] = {{255, 221, 170}, {187, 221, 255}, {204, 238, 204}, {238, 204, 238}, {238, 238, 187},
                                 {221, 221, 221}};
constexpr Rgb kWarningColour{210, 30, 30};
constexpr int kFirstPhaseColourIndex = 8;

struct PhaseSpan {
  std::string name;
  double start, end;
};

std::vector<PhaseSpan> phase_spans(const CsvTable& table, const std::vector<double>& t) {
  std::vector<PhaseSpan> spans;
  const auto phase_column = table.column("phase");
  if (!phase_column) return spans;
  for (size_t i = 0; i < table.rows(); ++i) {
    if (!std::isfinite(t[i])) continue;
    const std::string& phase = table.text(i, *phase_column);
    if (!spans.empty() && spans.back().name == phase) {
      spans.back().end = t[i];
    } else {
      if (!spans.empty()) spans.back().end = t[i];  // a phase lasts until the next one starts
      spans.push_back({phase, t[i], t[i]});
    }
  }
  spans.erase(std::remove_if(spans.begin(), spans.end(), [](const PhaseSpan& s) { return s.name.empty(); }),
              spans.end());
  return spans;
}

}  // namespace

void write_memory_curve(const std::filesystem::path& memory_csv, const std::filesystem::path& png) {
  const CsvTable table = CsvTable::read(memory_csv);
  if (table.rows() == 0) throw InputError(memory_csv.string() + ": no samples after the header");
  const size_t t_column = table.required_column("t_s");
  table.required_column("rss_mb");
  std::vector<double> t(table.rows());
  for (size_t i = 0; i < table.rows(); ++i) t[i] = table.number(i, t_column);

  // Series with at least one finite value are drawn; absent/empty device columns are skipped.
  struct Drawn {
    const MemorySeries* spec;
    std::vector<double> x, y;
  };
  std::vector<Drawn> drawn;
  double y_max = 0, t_lo = INFINITY, t_hi = -INFINITY;
  for (const auto& spec : kSeries) {
    const auto column = table.column(spec.column);
    if (!column) continue;
    std::vector<double> y(table.rows());
    for (size_t i = 0; i < table.rows(); ++i) y[i] = table.number(i, *column);
    Drawn d{&spec, {}, {}};
    finite_pairs(t, y, d.x, d.y);
    if (d.x.empty()) continue;
    for (size_t i = 0; i < d.x.size(); ++i) {
      y_max = std::max(y_max, d.y[i]);
      t_lo = std::min(t_lo, d.x[i]);
      t_hi = std::max(t_hi, d.x[i]);
    }
    drawn.push_back(std::move(d));
  }
  if (drawn.empty()) throw InputError(memory_csv.string() + ": column 'rss_mb' has no numeric samples");
  const auto [x_lo, x_hi] = padded_range(t_lo, t_hi);
  const double y_hi = y_max > 0 ? y_max * 1.15 : 1.0;

  PlotStream stream(png, kCurveWidthPx, kCurveHeightPx);
  pladv(0);
  plvpor(0.1, 0.95, 0.12, 0.9);
  plwind(x_lo, x_hi, 0.0, y_hi);

  // Phase bands first, so lines draw over them; one colour per distinct phase name.
  std::vector<std::string> phase_names;
  std::vector<LegendEntry> legend;
  for (const auto& span : phase_spans(table, t)) {
    auto it = std::find(phase_names.begin(), phase_names.end(), span.name);
    const auto slot = static_cast<size_t>(it - phase_names.begin());
    const int colour_index = kFirstPhaseColourIndex + static_cast<int>(slot % std::size(kPhaseColours));
    if (it == phase_names.end()) {
      phase_names.push_back(span.name);
      if (phase_names.size() <= std::size(kPhaseColours)) {
        legend.push_back({plplot_text(span.name), colour_index, LegendEntry::kBox});
      }
    }
    PlotStream::use_colour(colour_index, kPhaseColours[slot % std::size(kPhaseColours)], 0.6);
    const double end = span.end > span.start ? span.end : span.start + (x_hi - x_lo) * 0.002;
    const PLFLT xs[4] = {span.start, end, end, span.start};
    const PLFLT ys[4] = {0.0, 0.0, y_hi, y_hi};
    plfill(4, xs, ys);
  }

  PlotStream::use_colour(1, {0, 0, 0});
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  pllab("time (s)", "memory (MB)", "Memory during the run");
  int colour_index = 2;
  for (const auto& d : drawn) {
    PlotStream::use_colour(colour_index, d.spec->colour);
    pllsty(d.spec->line_style);
    plwidth(2.0);
    if (d.x.size() > 1) {
      plline(static_cast<PLINT>(d.x.size()), d.x.data(), d.y.data());
    } else {
      plstring(1, d.x.data(), d.y.data(), "●");
    }
    legend.push_back({d.spec->label, colour_index, LegendEntry::kLine, d.spec->line_style});
    ++colour_index;
  }
  pllsty(1);
  plwidth(1.0);

  // Warnings and alarms: a red marker on the RSS curve at each row with an event.
  if (const auto event_column = table.column("event")) {
    const size_t rss_column = table.required_column("rss_mb");
    std::vector<double> ex, ey;
    for (size_t i = 0; i < table.rows(); ++i) {
      if (table.text(i, *event_column).empty() || !std::isfinite(t[i])) continue;
      const double rss = table.number(i, rss_column);
      ex.push_back(t[i]);
      ey.push_back(std::isfinite(rss) ? rss : 0.0);
    }
    if (!ex.empty()) {
      PlotStream::use_colour(7, kWarningColour);
      plschr(0, 1.4);
      plstring(static_cast<PLINT>(ex.size()), ex.data(), ey.data(), "▲");
      plschr(0, 1.0);
      legend.push_back({"warning / event", 7, LegendEntry::kSymbol, 1, "▲"});
    }
  }
  draw_legend(legend);
  stream.finish();
}

}  // namespace safetrain::eval
