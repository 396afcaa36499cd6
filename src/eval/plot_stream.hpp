#pragma once
// RAII around one PLplot pngcairo stream: the constructor opens a new stream
// writing to a temporary file, finish() ends it (plend1, releasing every
// buffer PLplot and cairo hold for it) and renames the PNG into place. The
// destructor ends the stream even when drawing threw. PLplot's own exit() and abort calls throw
// IoError (noted as an output failure) instead of ending the process.
#include <filesystem>
#include <string>
#include <vector>

namespace safetrain::eval {

struct Rgb {
  int r, g, b;
};

class PlotStream {
 public:
  // subpages_x/y > 1 divide the page into a grid (pladv(n) selects a cell).
  PlotStream(const std::filesystem::path& png, int width_px, int height_px, int subpages_x = 1, int subpages_y = 1);
  ~PlotStream();
  PlotStream(const PlotStream&) = delete;
  PlotStream& operator=(const PlotStream&) = delete;

  void finish();  // ends the stream and moves the PNG to its final path

  // Colour-map-0 slot helpers: set slot `index` to colour/alpha and select it.
  static void use_colour(int index, Rgb colour, double alpha = 1.0);

 private:
  void end_stream();
  void abandon() noexcept;  // ends the stream quietly and removes an unfinished temporary file

  std::filesystem::path target_, temporary_;
  int stream_ = -1, previous_stream_ = 0;
  bool finished_ = false;
};

// PLplot treats '#' as the start of an escape sequence; double it for literal text.
std::string plplot_text(const std::string& text);

// Finite (x, y) pairs; dropping non-finite points keeps PLplot's autoscaling sane.
void finite_pairs(const std::vector<double>& x, const std::vector<double>& y, std::vector<double>& x_out,
                  std::vector<double>& y_out);

// [lo, hi] padded by 5%, never empty even for constant or single values.
std::pair<double, double> padded_range(double lo, double hi);

struct LegendEntry {
  enum Kind { kLine, kSymbol, kBox };
  std::string label;
  int colour_index;
  Kind kind = kLine;
  int line_style = 1;
  std::string symbol = "●";
};
enum class LegendPlacement { inside_top_right, outside_right };
// A legend in the top-right corner of the current viewport, or to its right (outside: off the data; the
// caller leaves room with a narrower viewport).
void draw_legend(const std::vector<LegendEntry>& entries,
                 LegendPlacement placement = LegendPlacement::inside_top_right);

}  // namespace safetrain::eval
