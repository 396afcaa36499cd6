#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "../support/scratch_dir.hpp"
#include "png_reader.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/eval/plots.hpp"
#include "safetrain/eval/predictions.hpp"

namespace fs = std::filesystem;
using namespace safetrain::eval;
using safetrain::testing_support::scratch_dir;
using safetrain::eval::png_test::Image;
using safetrain::eval::png_test::read_png;

namespace {


BufferedOutputs make_outputs(const torch::Tensor& targets, const torch::Tensor& predictions, int64_t epoch = 4) {
  BufferedOutputs out;
  out.targets = targets.to(torch::kFloat).contiguous();
  out.predictions = predictions.to(torch::kFloat).contiguous();
  out.row_ids = torch::arange(targets.size(0));
  out.epoch = epoch;
  out.seen = targets.size(0);
  return out;
}

StreamingMetrics metrics_for(const BufferedOutputs& o, const std::vector<std::string>& names) {
  StreamingMetrics m(names);
  m.update(o.predictions, o.targets);
  return m;
}

// Pixels drawn in the points' blue.
bool is_point_blue(const unsigned char* p) { return p[2] > p[0] + 60 && p[2] > p[1] + 30; }

// For a square, equal-range plot, a point on y = x lands where px + py is the same constant;
// returns the spread (standard deviation, pixels) of px + py over the blue pixels.
double diagonal_spread(const Image& image, size_t* blue_pixels) {
  double sum = 0, sum_sq = 0;
  size_t n = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = 0; x < image.width; ++x) {
      if (!is_point_blue(image.at(x, y))) continue;
      const double s = x + y;
      sum += s;
      sum_sq += s * s;
      ++n;
    }
  }
  *blue_pixels = n;
  if (n == 0) return 0;
  const double mean = sum / n;
  return std::sqrt(std::max(0.0, sum_sq / n - mean * mean));
}

}  // namespace

TEST(ScatterPlots, WritesOnePngPerTargetAndAGridOfTheExpectedSize) {
  const auto dir = scratch_dir("scatter");
  torch::manual_seed(0);
  const auto y = torch::randn({500, 3});
  const auto outputs = make_outputs(y, y + 0.2 * torch::randn({500, 3}));
  const std::vector<std::string> names{"x", "y", "yaw angle"};
  const auto files = write_scatter_plots(outputs, names, metrics_for(outputs, names), dir, {"val", 4});
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[2], dir / "val_scatter_yaw_angle.png");
  EXPECT_EQ(files[3], dir / "val_scatter_grid.png");
  for (size_t i = 0; i < 3; ++i) {
    const Image image = read_png(files[i]);
    EXPECT_EQ(image.width, kScatterSizePx);
    EXPECT_EQ(image.height, kScatterSizePx);
    EXPECT_GT(image.distinct_colours(), 2u);
  }
  const Image grid = read_png(files[3]);
  EXPECT_EQ(grid.width, 2 * kGridCellPx);
  EXPECT_EQ(grid.height, 2 * kGridCellPx);
  EXPECT_GT(grid.distinct_colours(), 2u);
  // No temporary files left behind.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 4u);
}

TEST(ScatterPlots, PerfectPredictorPointsLieOnTheDiagonal) {
  const auto dir = scratch_dir("diagonal");
  torch::manual_seed(1);
  const auto y = torch::randn({300, 1});
  const std::vector<std::string> names{"t"};
  const auto perfect = make_outputs(y, y);
  write_scatter_plots(perfect, names, metrics_for(perfect, names), dir, {"perfect", 1});
  const auto noisy = make_outputs(y, torch::randn({300, 1}));
  write_scatter_plots(noisy, names, metrics_for(noisy, names), dir, {"noisy", 1});
  size_t blue_perfect = 0, blue_noisy = 0;
  const double perfect_spread = diagonal_spread(read_png(dir / "perfect_scatter_t.png"), &blue_perfect);
  const double noisy_spread = diagonal_spread(read_png(dir / "noisy_scatter_t.png"), &blue_noisy);
  EXPECT_GT(blue_perfect, 200u);
  EXPECT_GT(blue_noisy, 200u);
  EXPECT_LT(perfect_spread, 12.0);
  EXPECT_GT(noisy_spread, 3 * perfect_spread);
}

TEST(ScatterPlots, EdgeCasesOneSampleConstantHugeAndEmpty) {
  const auto dir = scratch_dir("edges");
  const std::vector<std::string> names{"a b", "c#d"};
  const auto one = make_outputs(torch::tensor({{1.0f, 2.0f}}), torch::tensor({{1.5f, 2.0f}}));
  EXPECT_EQ(write_scatter_plots(one, names, metrics_for(one, names), dir, {"one", 0}).size(), 3u);
  const auto constant = make_outputs(torch::full({50, 2}, 3.0f), torch::full({50, 2}, 3.0f));
  EXPECT_EQ(write_scatter_plots(constant, names, metrics_for(constant, names), dir, {"const", -1}).size(), 3u);
  const auto huge_y = torch::linspace(-3e38, 3e38, 40, torch::kDouble).unsqueeze(1).repeat({1, 2});  // near FLT_MAX
  const auto huge = make_outputs(huge_y, huge_y * 0.9);
  EXPECT_EQ(write_scatter_plots(huge, names, MetricSummary{40, {1.0, 1.0}, {0.9, 0.9}}, dir, {"huge", 2}).size(), 3u);
  for (const char* file : {"one_scatter_a_b.png", "const_scatter_c_d.png", "huge_scatter_grid.png"}) {
    const Image image = read_png(dir / file);
    EXPECT_GT(image.distinct_colours(), 2u) << file;
  }
  size_t blue = 0;
  diagonal_spread(read_png(dir / "huge_scatter_a_b.png"), &blue);
  EXPECT_GT(blue, 100u) << "huge but finite values are drawn";
  const auto empty = make_outputs(torch::zeros({0, 2}), torch::zeros({0, 2}));
  EXPECT_TRUE(write_scatter_plots(empty, names, metrics_for(empty, names), dir, {"empty", 0}).empty());
}

TEST(LossCurve, WritesPngAndHandlesMissingValidationAndWideRanges) {
  const auto dir = scratch_dir("loss");
  std::vector<EpochRow> rows;
  for (int e = 0; e < 30; ++e) rows.push_back({e, 100.0 * std::exp(-0.3 * e), e % 2 ? 120.0 * std::exp(-0.3 * e) : NAN});
  write_loss_curve(rows, dir / "loss.png");  // spans > 20x: log axis
  const Image image = read_png(dir / "loss.png");
  EXPECT_EQ(image.width, kCurveWidthPx);
  EXPECT_EQ(image.height, kCurveHeightPx);
  EXPECT_GT(image.distinct_colours(), 2u);
  write_loss_curve({{0, 1.0, NAN}}, dir / "single.png");
  EXPECT_GT(read_png(dir / "single.png").distinct_colours(), 2u);
  EXPECT_THROW(write_loss_curve({}, dir / "none.png"), std::invalid_argument);
}

TEST(MemoryCurve, DrawsSeriesPhasesAndEventsAndRejectsBadFiles) {
  const auto dir = scratch_dir("memory");
  {
    std::ofstream csv(dir / "memory.csv");
    csv << "t_s,rss_mb,peak_rss_mb,available_mb,cuda_allocated_mb,cuda_reserved_mb,nvml_used_mb,nvml_total_mb,phase,"
           "epoch,event\n";
    for (int i = 0; i < 100; ++i) {
      const char* phase = i < 10 ? "load" : i < 80 ? (i % 20 < 15 ? "train" : "validate") : "test";
      csv << i * 0.5 << "," << 300 + i * 0.1 << ",," << 8000 << ",,,,," << phase << "," << i / 20 << ","
          << (i == 55 ? "rss_trend_warning" : "") << "\n";
    }
  }
  write_memory_curve(dir / "memory.csv", dir / "memory.png");
  const Image image = read_png(dir / "memory.png");
  EXPECT_EQ(image.width, kCurveWidthPx);
  EXPECT_GT(image.distinct_colours(), 2u);

  {
    std::ofstream bad(dir / "bad.csv");
    bad << "t_s,rss_mb\n0,100\n1,abc\n";
  }
  try {
    write_memory_curve(dir / "bad.csv", dir / "bad.png");
    FAIL() << "expected InputError";
  } catch (const safetrain::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3:2"), std::string::npos) << e.what();
  }
  {
    std::ofstream missing(dir / "missing.csv");
    missing << "t_s,phase\n0,train\n";
  }
  EXPECT_THROW(write_memory_curve(dir / "missing.csv", dir / "m.png"), safetrain::InputError);
  EXPECT_FALSE(fs::exists(dir / "bad.png"));
}

namespace {
size_t count_pixels(const Image& image, bool (*match)(const unsigned char*), int x_from = 0) {
  size_t n = 0;
  for (int y = 0; y < image.height; ++y) {
    for (int x = x_from; x < image.width; ++x) n += match(image.at(x, y));
  }
  return n;
}
bool is_best_green(const unsigned char* p) { return p[1] > p[0] + 60 && p[1] > p[2] + 40; }
bool is_alarm_red(const unsigned char* p) { return p[0] > 170 && p[1] < 90 && p[2] < 90; }
bool is_dark(const unsigned char* p) { return p[0] < 100 && p[1] < 100 && p[2] < 100; }

void write_memory_csv(const fs::path& csv, const std::vector<std::string>& events) {
  std::ofstream out(csv);
  out << "t_s,rss_mb,peak_rss_mb,available_mb,cuda_allocated_mb,cuda_reserved_mb,nvml_used_mb,nvml_total_mb,phase,"
         "epoch,event\n";
  for (size_t i = 0; i < 60; ++i) {
    const char* phase = i < 10 ? "load" : i < 20 ? "descriptors" : "train";
    out << i * 0.5 << "," << 300 + i * 0.1 << ",,8000,,,,," << phase << "," << i / 10 << ","
        << (i < events.size() ? events[i] : "") << "\n";
  }
}
}  // namespace

TEST(LossCurve, MarksTheBestEpochOnlyWhenGiven) {
  const auto dir = scratch_dir("loss_best");
  std::vector<EpochRow> rows;
  for (int e = 1; e <= 12; ++e) rows.push_back({e, 1.0 / e, 1.2 / e + (e > 8 ? 0.05 * (e - 8) : 0.0)});
  write_loss_curve(rows, dir / "plain.png");
  write_loss_curve(rows, dir / "best.png", {8, "MSE, standardised targets"});
  write_loss_curve(rows, dir / "absent.png", {40, "MSE"});  // not one of the epochs: nothing marked
  EXPECT_EQ(count_pixels(read_png(dir / "plain.png"), is_best_green), 0u);
  EXPECT_GT(count_pixels(read_png(dir / "best.png"), is_best_green), 200u);
  EXPECT_EQ(count_pixels(read_png(dir / "absent.png"), is_best_green), 0u);
}

TEST(MemoryCurve, RoutineEventsAreNotAlarmsAndTheLegendStaysOffTheData) {
  const auto dir = scratch_dir("memory_events");
  std::vector<std::string> routine(60);
  for (size_t i = 0; i < routine.size(); ++i) routine[i] = i % 10 == 9 ? "epoch end" : i % 7 == 3 ? "trim" : "";
  routine[10] = "enter descriptors";
  write_memory_csv(dir / "routine.csv", routine);
  write_memory_curve(dir / "routine.csv", dir / "routine.png");
  const Image quiet = read_png(dir / "routine.png");
  EXPECT_EQ(count_pixels(quiet, is_alarm_red), 0u) << "trims and epoch ends are grey ticks, not red markers";
  // The legend (dark text and frame) lies right of the data area (viewport x 10%..70%, y 12%..90% from the
  // bottom): nothing dark inside the frame, away from its tick marks; dark legend text right of it.
  size_t dark_inside = 0;
  for (int y = static_cast<int>(quiet.height * 0.1) + 15; y < static_cast<int>(quiet.height * 0.88) - 15; ++y) {
    for (int x = static_cast<int>(quiet.width * 0.1) + 15; x < static_cast<int>(quiet.width * 0.7) - 15; ++x) {
      dark_inside += is_dark(quiet.at(x, y));
    }
  }
  EXPECT_EQ(dark_inside, 0u);
  EXPECT_GT(count_pixels(quiet, is_dark, static_cast<int>(kCurveWidthPx * 0.72)), 300u);

  auto alarmed = routine;
  alarmed[30] = "warning";
  alarmed[50] = "alarm";
  write_memory_csv(dir / "alarm.csv", alarmed);
  write_memory_curve(dir / "alarm.csv", dir / "alarm.png");
  EXPECT_GT(count_pixels(read_png(dir / "alarm.png"), is_alarm_red), 100u);
}

TEST(MemoryCurve, EveryPhaseGetsItsOwnColour) {
  const auto dir = scratch_dir("memory_phases");
  const std::vector<std::string> phases{"load", "descriptors", "build", "train", "validate", "test", "checkpoint", "plot"};
  {
    std::ofstream out(dir / "memory.csv");
    out << "t_s,rss_mb,phase,event\n";
    for (size_t i = 0; i < phases.size() * 10; ++i) out << i << ",300," << phases[i / 10] << ",\n";
  }
  write_memory_curve(dir / "memory.csv", dir / "memory.png");
  const Image image = read_png(dir / "memory.png");
  // t runs 0..79, padded by 5% each side, over the viewport's x 10%..70% of the width; sample each band's
  // middle in the lower half of the plot, below the RSS line.
  const double t_lo = -0.05 * 79, t_hi = 79 * 1.05;
  std::set<unsigned> colours;
  for (size_t k = 0; k < phases.size(); ++k) {
    const double t = 10.0 * k + 5;
    const int x = static_cast<int>(image.width * (0.1 + 0.6 * (t - t_lo) / (t_hi - t_lo)));
    const unsigned char* p = image.at(x, static_cast<int>(image.height * 0.6));
    colours.insert(p[0] << 16 | p[1] << 8 | p[2]);
  }
  EXPECT_EQ(colours.size(), phases.size()) << "phases sharing a band colour cannot be told apart";
}

namespace {
// Each phase's band colour in a memory.png drawn from `phases` in this order, 10 samples each.
std::map<std::string, unsigned> band_colours(const fs::path& dir, const std::string& name,
                                             const std::vector<std::string>& phases) {
  const auto csv = dir / (name + ".csv"), png = dir / (name + ".png");
  {
    std::ofstream out(csv);
    out << "t_s,rss_mb,phase,event\n";
    for (size_t i = 0; i < phases.size() * 10; ++i) out << i << ",300," << phases[i / 10] << ",\n";
  }
  write_memory_curve(csv, png);
  const Image image = read_png(png);
  const double last = static_cast<double>(phases.size() * 10 - 1), t_lo = -0.05 * last, t_hi = last * 1.05;
  std::map<std::string, unsigned> colours;
  for (size_t k = 0; k < phases.size(); ++k) {
    const double t = 10.0 * k + 5;
    const int x = static_cast<int>(image.width * (0.1 + 0.6 * (t - t_lo) / (t_hi - t_lo)));
    const unsigned char* p = image.at(x, static_cast<int>(image.height * 0.6));
    colours[phases[k]] = p[0] << 16 | p[1] << 8 | p[2];
  }
  return colours;
}
}  // namespace

TEST(MemoryCurve, APhaseHasTheSameColourInEveryRun) {
  // Regression: colours went by order of appearance, so "train" changed colour between a run that pruned
  // descriptors first and one that did not.
  const auto dir = scratch_dir("memory_phase_colours");
  const auto a = band_colours(dir, "a", {"load", "descriptors", "build", "train", "validate"});
  const auto b = band_colours(dir, "b", {"build", "train", "validate", "test", "plot"});
  for (const char* phase : {"build", "train", "validate"}) EXPECT_EQ(a.at(phase), b.at(phase)) << phase;
}

TEST(LossCurve, TheLegendNeverCoversTheCurve) {
  // Regression: the legend sat inside the top-right corner, over the curve of a loss that ends high there.
  const auto dir = scratch_dir("loss_legend");
  std::vector<EpochRow> rising, falling;
  for (int e = 1; e <= 30; ++e) {
    rising.push_back({e, 1.0 + 0.1 * e, NAN});
    falling.push_back({e, 4.0 - 0.1 * e, NAN});
  }
  write_loss_curve(rising, dir / "rising.png");
  write_loss_curve(falling, dir / "falling.png");
  const auto is_train_blue = [](const unsigned char* p) { return p[2] > 150 && p[0] < 90 && p[1] < 140; };
  const auto blue_rising = count_pixels(read_png(dir / "rising.png"), is_train_blue);
  const auto blue_falling = count_pixels(read_png(dir / "falling.png"), is_train_blue);
  ASSERT_GT(blue_falling, 200u) << blue_rising;
  // The same line drawn mirrored: as much of it shows wherever it ends.
  EXPECT_GT(static_cast<double>(blue_rising), 0.98 * static_cast<double>(blue_falling))
      << blue_rising << " vs " << blue_falling;
}
