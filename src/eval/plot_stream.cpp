#include "plot_stream.hpp"

#include <plplot.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/output_status.hpp"

namespace safetrain::eval {
namespace {

// PLplot ends the process from plexit() (e.g. it cannot create the temporary file of its driver list
// on a full or missing /tmp, or find PLPLOT_DRV_DIR). Its exit handler throws instead: the exception
// leaves PLplot's C frames (built with unwind tables) and the final stage names the failure and carries on.
extern "C" int on_plplot_exit(const char* message) {
  std::string text = std::string("PLplot gave up: ") + (message ? message : "(no message)");
  if (text.find("emporary") != std::string::npos || text.find("river") != std::string::npos) {
    const char* tmp = std::getenv("TMP") ? std::getenv("TMP") : std::getenv("TEMP") ? std::getenv("TEMP")
                      : std::getenv("TMPDIR")                   ? std::getenv("TMPDIR") : "/tmp";
    text += std::string(" (PLplot writes its driver list to a temporary file in ") + tmp +
            ", from TMP, TEMP or TMPDIR: check it exists and has space; its drivers come from PLPLOT_DRV_DIR)";
  }
  note_output_write_failure(text);
  throw IoError(text);
}

// plabort(): PLplot abandons one operation and would print "ABORTING OPERATION"; the figure is incomplete.
extern "C" void on_plplot_abort(const char* message) {
  const std::string text = std::string("PLplot aborted an operation: ") + (message ? message : "(no message)");
  note_output_write_failure(text);
  throw IoError(text);
}

void install_plplot_handlers() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    plsexit(on_plplot_exit);
    plsabort(on_plplot_abort);
  });
}

// plinit() calls exit() for an unknown device, so ask PLplot for its device list first.
bool pngcairo_available() {
  install_plplot_handlers();
  static const bool available = [] {
    const char** menus = nullptr;
    const char** names = nullptr;
    int count = 64;
    std::vector<const char*> menu_storage(count), name_storage(count);
    menus = menu_storage.data();
    names = name_storage.data();
    plgDevs(&menus, &names, &count);
    for (int i = 0; i < count; ++i) {
      if (names[i] && std::string(names[i]) == "pngcairo") return true;
    }
    return false;
  }();
  return available;
}

// PLplot's cairo driver does not report write errors: on a full disk it leaves a truncated PNG and
// returns normally. A complete PNG starts with the 8-byte signature and ends with the IEND chunk.
void check_complete_png(const std::filesystem::path& png) {
  static const unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static const unsigned char kIend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  std::ifstream in(png, std::ios::binary | std::ios::ate);
  const auto size = static_cast<int64_t>(in.tellg());
  unsigned char head[8] = {}, tail[12] = {};
  if (in && size >= 20) {
    in.seekg(0);
    in.read(reinterpret_cast<char*>(head), sizeof head);
    in.seekg(size - 12);
    in.read(reinterpret_cast<char*>(tail), sizeof tail);
  }
  if (in && size >= 20 && std::memcmp(head, kSignature, 8) == 0 && std::memcmp(tail, kIend, 12) == 0) return;
  // The truncated file still holds the space it got, so a disk that filled up shows (almost) nothing free.
  const double free_mb = free_megabytes(png);
  if (free_mb >= 0 && free_mb < 1.0) throw_write_error(png, ENOSPC);
  throw_write_error(png, EIO, "PLplot wrote a truncated PNG (" + std::to_string(std::max<int64_t>(0, size)) +
                                  " bytes, no IEND chunk):");
}

}  // namespace

PlotStream::PlotStream(const std::filesystem::path& png, int width_px, int height_px, int subpages_x,
                       int subpages_y)
    : target_(png) {
  if (!pngcairo_available()) {
    throw ResourceError("PLplot has no 'pngcairo' output driver; install Debian's plplot-driver-cairo to draw " +
                        png.string());
  }
  const auto dir = png.has_parent_path() ? png.parent_path() : std::filesystem::path(".");
  std::filesystem::create_directories(dir);
  temporary_ = dir / ("." + png.filename().string() + ".tmp." + std::to_string(::getpid()));
  // PLplot calls exit() when it cannot open its output file, so check here first.
  CheckedFile(temporary_, CheckedFile::Mode::kTruncate).close();
  PLINT previous = 0, created = 0;
  plgstrm(&previous);
  plmkstrm(&created);
  previous_stream_ = previous;
  stream_ = created;
  try {
    plsdev("pngcairo");
    plsfnam(temporary_.c_str());
    plspage(0, 0, width_px, height_px, 0, 0);
    plscolbg(255, 255, 255);
    plscol0(1, 0, 0, 0);  // axes and labels in black (PLplot's default colour 1 is red)
    plstar(subpages_x, subpages_y);
  } catch (...) {
    abandon();  // no destructor runs for a half-built object
    throw;
  }
}

PlotStream::~PlotStream() { abandon(); }

void PlotStream::abandon() noexcept {
  try {
    end_stream();
  } catch (const std::exception&) {
    // Already named (the handlers note every PLplot failure); this runs in destructors.
  }
  if (!finished_) {
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
  }
}

void PlotStream::end_stream() {
  if (stream_ < 0) return;
  const int stream = stream_;
  stream_ = -1;  // ended once, even when PLplot throws from plend1
  plsstrm(stream);
  try {
    plend1();
  } catch (...) {
    plsstrm(previous_stream_);
    throw;
  }
  plsstrm(previous_stream_);
}

void PlotStream::finish() {
  end_stream();
  check_complete_png(temporary_);
  CheckedFile written(temporary_, CheckedFile::Mode::kAppend);
  written.sync();
  written.close();
  if (std::rename(temporary_.c_str(), target_.c_str()) != 0) {
    throw_write_error(target_, errno, "cannot rename " + temporary_.string() + " to");
  }
  fsync_directory(target_.has_parent_path() ? target_.parent_path() : std::filesystem::path("."));
  finished_ = true;
}

void PlotStream::use_colour(int index, Rgb colour, double alpha) {
  plscol0a(index, colour.r, colour.g, colour.b, alpha);
  plcol0(index);
}

std::string plplot_text(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '#') out += '#';
  }
  return out;
}

void finite_pairs(const std::vector<double>& x, const std::vector<double>& y, std::vector<double>& x_out,
                  std::vector<double>& y_out) {
  x_out.clear();
  y_out.clear();
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (std::isfinite(x[i]) && std::isfinite(y[i])) {
      x_out.push_back(x[i]);
      y_out.push_back(y[i]);
    }
  }
}

std::pair<double, double> padded_range(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) return {0.0, 1.0};
  // Halves first so hi - lo cannot overflow for huge values.
  const double half_span = hi / 2 - lo / 2;
  if (half_span <= std::max(std::abs(lo), std::abs(hi)) * 1e-9) {
    // Constant data (or a single point): centre it in a visible window.
    const double span = std::max(std::max(std::abs(lo), std::abs(hi)) * 0.05, 0.5);
    return {lo - span, hi + span};
  }
  const double pad = half_span * 0.1;
  return {lo - pad, hi + pad};
}

void draw_legend(const std::vector<LegendEntry>& entries, LegendPlacement placement) {
  if (entries.empty()) return;
  const auto n = static_cast<PLINT>(entries.size());
  std::vector<PLINT> opts, text_colours, box_colours, box_patterns, line_colours, line_styles, symbol_colours,
      symbol_numbers;
  std::vector<PLFLT> box_scales, box_line_widths, line_widths, symbol_scales;
  std::vector<const char*> texts, symbols;
  for (const auto& e : entries) {
    opts.push_back(e.kind == LegendEntry::kBox ? PL_LEGEND_COLOR_BOX
                   : e.kind == LegendEntry::kSymbol ? PL_LEGEND_SYMBOL : PL_LEGEND_LINE);
    text_colours.push_back(1);
    texts.push_back(e.label.c_str());
    box_colours.push_back(e.colour_index);
    box_patterns.push_back(0);
    box_scales.push_back(0.8);
    box_line_widths.push_back(1.0);
    line_colours.push_back(e.colour_index);
    line_styles.push_back(e.line_style);
    line_widths.push_back(2.0);
    symbol_colours.push_back(e.colour_index);
    symbol_scales.push_back(1.0);
    symbol_numbers.push_back(1);
    symbols.push_back(e.symbol.c_str());
  }
  PLFLT width = 0, height = 0;
  plscol0a(15, 255, 255, 255, 0.85);
  const bool outside = placement == LegendPlacement::outside_right;
  // Outside: right of the viewport, vertically centred (RIGHT|TOP|OUTSIDE would sit above the top-right corner).
  const PLINT position = outside ? PL_POSITION_RIGHT | PL_POSITION_OUTSIDE
                                 : PL_POSITION_RIGHT | PL_POSITION_TOP | PL_POSITION_INSIDE;
  if (outside) plschr(0, 0.8);
  pllegend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, position, outside ? 0.015 : 0.02, outside ? 0.0 : 0.02,
           0.08, 15, 1, 1, 0, 0, n, opts.data(), 1.0, 0.8, 2.0, 0.0,
           text_colours.data(), texts.data(), box_colours.data(), box_patterns.data(), box_scales.data(),
           box_line_widths.data(), line_colours.data(), line_styles.data(), line_widths.data(),
           symbol_colours.data(), symbol_scales.data(), symbol_numbers.data(), symbols.data());
  plschr(0, 1.0);
}

}  // namespace safetrain::eval
