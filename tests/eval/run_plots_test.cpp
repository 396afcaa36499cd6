#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "png_reader.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/eval/final_stage.hpp"
#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/plots.hpp"
#include "safetrain/eval/predictions.hpp"
#include "safetrain/eval/run_plots.hpp"

namespace fs = std::filesystem;
using namespace safetrain::eval;

namespace {

// A small finished run: metrics.csv, memory.csv, predictions/{val,test}.csv and metrics.json.
fs::path make_run(const std::string& name, int64_t rows = 400) {
  const fs::path run = fs::path(SAFETRAIN_BINARY_DIR) / "eval_test_output" / name;
  fs::remove_all(run);
  fs::create_directories(run);
  {
    std::ofstream m(run / "metrics.csv");
    m << "epoch,train_loss,val_loss,val_mae,val_r2,lr,seconds,samples_per_s,rss_mb\n";
    for (int e = 0; e < 10; ++e) {
      m << e << "," << 1.0 / (e + 1) << ",";
      if (e % 2 == 1) m << 1.2 / (e + 1) << ",0.5,0.8";
      else m << ",,";
      m << ",0.001,1.5,1000,310\n";
    }
  }
  {
    std::ofstream mem(run / "memory.csv");
    mem << "t_s,rss_mb,peak_rss_mb,available_mb,cuda_allocated_mb,cuda_reserved_mb,nvml_used_mb,nvml_total_mb,phase,"
           "epoch,event\n";
    for (int i = 0; i < 40; ++i) {
      mem << i << "," << 300 + i % 3 << ",310,8000,,,,," << (i < 30 ? "train" : "plot") << "," << i / 4 << ",\n";
    }
  }
  torch::manual_seed(4);
  const std::vector<std::string> names{"x", "y z"};
  StreamingMetrics metrics(names);
  OutputBuffer buffer(100, 2, 9);
  buffer.begin_epoch(9);
  const auto y = torch::randn({rows, 2});
  const auto p = y + 0.1 * torch::randn({rows, 2});
  metrics.update(p, y);
  buffer.add(p, y, torch::arange(rows));
  write_predictions_csv(buffer.snapshot(), names, run / "predictions" / "val.csv");
  write_predictions_csv(buffer.snapshot(), names, run / "predictions" / "test.csv");
  auto val = metrics.to_json();
  val["epoch"] = 9;
  write_metrics_json({{"val", val}}, run / "metrics.json");
  return run;
}

long rss_kb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

TEST(RedrawRun, DrawsEveryPlotOfAKnownRun) {
  const fs::path run = make_run("run_full");
  const auto files = redraw_run(run);
  std::vector<std::string> expected{"loss.png", "memory.png", "val_scatter_x.png", "val_scatter_y_z.png",
                                    "val_scatter_grid.png", "test_scatter_x.png", "test_scatter_y_z.png",
                                    "test_scatter_grid.png"};
  ASSERT_EQ(files.size(), expected.size());
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i], run / "plots" / expected[i]);
    const auto image = png_test::read_png(files[i]);
    EXPECT_GT(image.distinct_colours(), 2u) << expected[i];
  }
  EXPECT_EQ(png_test::read_png(run / "plots" / "val_scatter_grid.png").width, 2 * kGridCellPx);
}

TEST(RedrawRun, MissingFilesAreSkippedAndBadFilesNameTheirLocation) {
  const fs::path run = make_run("run_partial");
  fs::remove(run / "memory.csv");
  fs::remove(run / "predictions" / "test.csv");
  fs::remove(run / "metrics.json");  // metrics recomputed from the rows
  EXPECT_EQ(redraw_run(run).size(), 4u);
  { std::ofstream(run / "metrics.csv") << "epoch,val_loss\n1,0.5\n"; }
  try {
    redraw_run(run);
    FAIL();
  } catch (const safetrain::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("train_loss"), std::string::npos) << e.what();
  }
  EXPECT_THROW(redraw_run(run / "nope"), safetrain::InputError);
  // The bad file does not cost the other figures.
  fs::remove_all(run / "plots");
  EXPECT_THROW(redraw_run(run), safetrain::InputError);
  EXPECT_TRUE(fs::exists(run / "plots" / "val_scatter_grid.png"));
  // A memory.csv holding only its header (monitor stopped early) is skipped, not an error.
  { std::ofstream(run / "metrics.csv") << "epoch,train_loss,val_loss\n"; }
  { std::ofstream(run / "memory.csv") << "t_s,rss_mb,phase,event\n"; }
  EXPECT_EQ(redraw_run(run).size(), 3u);
}

TEST(RedrawRun, RepeatedPlotStageDoesNotGrowRss) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // AddressSanitizer keeps freed blocks in a quarantine (up to 256 MB) and maps shadow pages, so
  // RSS growth there says nothing about our allocations; LeakSanitizer checks this tree instead.
  GTEST_SKIP() << "RSS bounds are measured in the uninstrumented build";
#endif
  const fs::path run = make_run("run_rss", 2000);
  for (int i = 0; i < 3; ++i) redraw_run(run);  // warm-up: fonts, cairo and allocator caches
  const long before = rss_kb();
  for (int i = 0; i < 30; ++i) redraw_run(run);
  const long growth_kb = rss_kb() - before;
  RecordProperty("rss_growth_kb", static_cast<int>(growth_kb));
  EXPECT_LT(growth_kb, 3 * 1024) << "RSS grew by " << growth_kb << " kB over 30 plot stages";
}

TEST(FinalStage, WritesPredictionsExactMetricsAndPlots) {
  const fs::path run = fs::path(SAFETRAIN_BINARY_DIR) / "eval_test_output" / "final_stage";
  fs::remove_all(run);
  const std::vector<std::string> names{"a", "b"};
  StreamingMetrics metrics(names);
  OutputBuffer buffer(10, 2, 1);
  buffer.begin_epoch(6);
  torch::manual_seed(5);
  for (int i = 0; i < 10; ++i) {
    const auto y = torch::randn({16, 2});
    const auto p = y + 0.2 * torch::randn({16, 2});
    metrics.update(p, y);
    buffer.add(p, y, torch::arange(i * 16, i * 16 + 16));
  }
  const auto files = write_final_outputs(safetrain::RunLayout(run), names, {{"val", buffer.snapshot(), &metrics, 6}});
  EXPECT_EQ(files.size(), 2u + 3u);  // val.csv, metrics.json, three scatter PNGs
  std::ifstream in(run / "metrics.json");
  const auto json = nlohmann::json::parse(in);
  EXPECT_EQ(json["val"]["count"], 160);  // exact over all samples, not the 10 kept
  EXPECT_EQ(json["val"]["kept"], 10);
  EXPECT_EQ(json["val"]["epoch"], 6);
  EXPECT_DOUBLE_EQ(json["val"]["targets"]["b"]["r2"].get<double>(), metrics.r2()[1]);
  EXPECT_TRUE(fs::exists(run / "plots" / "val_scatter_grid.png"));
  // plot_run reads the same file: its titles are the exact metrics of that epoch.
  const auto source = split_title_source(run, "val");
  EXPECT_TRUE(source.exact);
  EXPECT_EQ(source.epoch, 6);
  EXPECT_FALSE(split_title_source(run, "test").exact);
}

TEST(RedrawRun, LossCurveMarksTheBestEpochFromMetricsJson) {
  const fs::path run = make_run("run_best");
  redraw_run(run);
  const auto count_green = [](const png_test::Image& image) {
    size_t n = 0;
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        const unsigned char* p = image.at(x, y);
        n += p[1] > p[0] + 60 && p[1] > p[2] + 40;
      }
    }
    return n;
  };
  EXPECT_EQ(count_green(png_test::read_png(run / "plots" / "loss.png")), 0u);  // metrics.json has no best_epoch
  std::ifstream in(run / "metrics.json");
  auto json = nlohmann::json::parse(in);
  json["best_epoch"] = 5;
  json["loss_units"] = "MSE, standardised targets";
  write_metrics_json(json, run / "metrics.json");
  redraw_run(run);
  EXPECT_GT(count_green(png_test::read_png(run / "plots" / "loss.png")), 200u);
}
