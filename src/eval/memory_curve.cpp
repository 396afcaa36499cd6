// plots/memory.png: the monitor's samples over time, phases shaded, routine events as grey ticks,
// warnings and alarms as red markers, the legend to the right of the data.
#include <plplot.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <tuple>

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
// One colour per phase the monitor knows (monitor::Phase has 8 besides idle), so no two share a colour.
constexpr Rgb kPhaseColours[] = {{255, 221, 170}, {187, 221, 255}, {204, 238, 204}, {238, 204, 238}, {238, 238, 187},
                                 {221, 221, 221}, {255, 204, 204}, {204, 238, 238}, {230, 215, 195}};
// Each phase's colour is fixed by its name (monitor/phase.hpp's names), so a colour means the same phase in every
// run's plot; a name not listed takes the last colour.
constexpr const char* kPhaseColourOrder[] = {"load", "build", "train", "validate", "test", "plot", "checkpoint",
                                             "descriptors"};
size_t phase_colour_slot(const std::string& name) {
  const auto it = std::find(std::begin(kPhaseColourOrder), std::end(kPhaseColourOrder), name);
  return static_cast<size_t>(it - std::begin(kPhaseColourOrder));  // == size for an unknown name: the last colour
}
constexpr Rgb kWarningColour{210, 30, 30};
constexpr Rgb kTickColour{150, 150, 150};
constexpr int kTickColourIndex = 6, kWarningColourIndex = 7;
constexpr int kFirstPhaseColourIndex = 16;  // above PLplot's 16 default slots (15: legend background)

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
  // Idle is the absence of a phase: left unshaded.
  const auto unshaded = [](const PhaseSpan& s) { return s.name.empty() || s.name == "idle"; };
  spans.erase(std::remove_if(spans.begin(), spans.end(), unshaded), spans.end());
  return spans;
}

// What a row's `event` cell says, decided once per row. Phase entries/exits are already the bands' edges.
enum class EventKind { none, phase_boundary, epoch_end, routine, alarm };

EventKind event_kind(const std::string& event) {
  if (event.empty()) return EventKind::none;
  if (event.rfind("enter ", 0) == 0 || event.rfind("exit ", 0) == 0) return EventKind::phase_boundary;
  if (event == "epoch end") return EventKind::epoch_end;
  for (const char* word : {"warning", "alarm", "critical"}) {
    if (event.find(word) != std::string::npos) return EventKind::alarm;
  }
  return EventKind::routine;  // cache trims and anything else the monitor notes in passing
}

struct Drawn {
  const MemorySeries* spec;
  std::vector<double> x, y;
};

struct Frame {
  double x_lo, x_hi, y_hi;
};

// Series with at least one finite value; absent/empty device columns are skipped.
std::vector<Drawn> read_series(const CsvTable& table, const std::vector<double>& t, Frame& frame) {
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
  std::tie(frame.x_lo, frame.x_hi) = padded_range(t_lo, t_hi);
  frame.y_hi = y_max > 0 ? y_max * 1.15 : 1.0;
  return drawn;
}

// Phase bands first, so lines draw over them; one fixed colour per phase name.
void draw_phase_bands(const CsvTable& table, const std::vector<double>& t, const Frame& frame,
                      std::vector<LegendEntry>& legend) {
  std::vector<std::string> phase_names;
  for (const auto& span : phase_spans(table, t)) {
    const auto it = std::find(phase_names.begin(), phase_names.end(), span.name);
    const auto slot = std::min(phase_colour_slot(span.name), std::size(kPhaseColours) - 1);
    const int colour_index = kFirstPhaseColourIndex + static_cast<int>(slot);
    if (it == phase_names.end()) {
      phase_names.push_back(span.name);
      if (phase_names.size() <= std::size(kPhaseColours)) {
        legend.push_back({"phase: " + plplot_text(span.name), colour_index, LegendEntry::kBox});
      }
    }
    PlotStream::use_colour(colour_index, kPhaseColours[slot], 0.6);
    const double end = span.end > span.start ? span.end : span.start + (frame.x_hi - frame.x_lo) * 0.002;
    const PLFLT xs[4] = {span.start, end, end, span.start};
    const PLFLT ys[4] = {0.0, 0.0, frame.y_hi, frame.y_hi};
    plfill(4, xs, ys);
  }
}

void draw_series(const std::vector<Drawn>& drawn, std::vector<LegendEntry>& legend) {
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
}

// Epoch ends: short grey ticks up from the bottom edge; other routine events (trims): down from the top edge.
void draw_ticks(const std::vector<double>& at, bool from_top, const Frame& frame) {
  const double length = frame.y_hi * 0.05;  // longer than the axis ticks
  PlotStream::use_colour(kTickColourIndex, kTickColour);
  for (double x : at) pljoin(x, from_top ? frame.y_hi : 0.0, x, from_top ? frame.y_hi - length : length);
}

void draw_events(const CsvTable& table, const std::vector<double>& t, const Frame& frame,
                 std::vector<LegendEntry>& legend) {
  const auto event_column = table.column("event");
  if (!event_column) return;
  const size_t rss_column = table.required_column("rss_mb");
  std::vector<double> epoch_ends, routine, alarm_t, alarm_rss;
  for (size_t i = 0; i < table.rows(); ++i) {
    if (!std::isfinite(t[i])) continue;
    switch (event_kind(table.text(i, *event_column))) {
      case EventKind::none:
      case EventKind::phase_boundary: break;
      case EventKind::epoch_end: epoch_ends.push_back(t[i]); break;
      case EventKind::routine: routine.push_back(t[i]); break;
      case EventKind::alarm: {
        const double rss = table.number(i, rss_column);
        alarm_t.push_back(t[i]);
        alarm_rss.push_back(std::isfinite(rss) ? rss : 0.0);
      }
    }
  }
  draw_ticks(epoch_ends, false, frame);
  draw_ticks(routine, true, frame);
  if (!epoch_ends.empty()) legend.push_back({"epoch end (bottom)", kTickColourIndex});
  if (!routine.empty()) legend.push_back({"cache trim (top)", kTickColourIndex});
  if (alarm_t.empty()) return;
  PlotStream::use_colour(kWarningColourIndex, kWarningColour);
  plschr(0, 1.4);
  plstring(static_cast<PLINT>(alarm_t.size()), alarm_t.data(), alarm_rss.data(), "▲");
  plschr(0, 1.0);
  legend.push_back({"memory warning / alarm", kWarningColourIndex, LegendEntry::kSymbol, 1, "▲"});
}

}  // namespace

void write_memory_curve(const std::filesystem::path& memory_csv, const std::filesystem::path& png) {
  const CsvTable table = CsvTable::read(memory_csv);
  if (table.rows() == 0) throw InputError(memory_csv.string() + ": no samples after the header");
  const size_t t_column = table.required_column("t_s");
  table.required_column("rss_mb");
  std::vector<double> t(table.rows());
  for (size_t i = 0; i < table.rows(); ++i) t[i] = table.number(i, t_column);
  Frame frame{};
  const std::vector<Drawn> drawn = read_series(table, t, frame);
  if (drawn.empty()) throw InputError(memory_csv.string() + ": column 'rss_mb' has no numeric samples");

  PlotStream stream(png, kCurveWidthPx, kCurveHeightPx);
  plscmap0n(kFirstPhaseColourIndex + static_cast<int>(std::size(kPhaseColours)));
  pladv(0);
  plvpor(0.1, 0.7, 0.12, 0.9);  // the right quarter holds the legend, off the data
  plwind(frame.x_lo, frame.x_hi, 0.0, frame.y_hi);
  std::vector<LegendEntry> legend;
  draw_phase_bands(table, t, frame, legend);
  PlotStream::use_colour(1, {0, 0, 0});
  plbox("bcnst", 0, 0, "bcnstv", 0, 0);
  pllab("time (s)", "memory (MB)", "Memory during the run");
  draw_series(drawn, legend);
  draw_events(table, t, frame, legend);
  draw_legend(legend, LegendPlacement::outside_right);
  stream.finish();
}

}  // namespace safetrain::eval
