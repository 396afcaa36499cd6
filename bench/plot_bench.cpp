// plot_bench: where the end-of-run plot stage spends its time. Builds a quickstart-sized run directory
// (6 targets, val and test of --rows rows each = 12 scatter panels plus two grids, --epochs rows of
// metrics.csv, --samples rows of memory.csv), then times every figure on its own and the whole stage
// (redraw_run, what the trainer and plot_run call), best of --repeats. Target: stage < 1 s.
//   build/bench/plot_bench [--rows 10000] [--repeats 3]
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>

#include "safetrain/common/run_layout.hpp"
#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/plots.hpp"
#include "safetrain/eval/predictions.hpp"
#include "safetrain/eval/run_plots.hpp"

namespace fs = std::filesystem;
namespace se = safetrain::eval;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kTargets{"x", "y", "z", "roll", "pitch", "yaw"};

se::BufferedOutputs make_outputs(int64_t rows, int64_t seed) {
  torch::manual_seed(seed);
  se::BufferedOutputs out;
  out.targets = torch::randn({rows, static_cast<int64_t>(kTargets.size())});
  out.predictions = out.targets + 0.3 * torch::randn_like(out.targets);
  out.row_ids = torch::arange(rows);
  out.epoch = 20;
  out.seen = rows;
  return out;
}

void write_run(const safetrain::RunLayout& run, int64_t rows, int epochs, int samples) {
  fs::remove_all(run.root());
  run.create_directories();
  {
    std::ofstream m(run.metrics_csv());
    m << "epoch,train_loss,val_loss,val_mae,val_r2,lr,grad_norm,seconds,samples_per_s,rss_mb\n";
    for (int e = 1; e <= epochs; ++e) m << e << "," << 1.0 / e << "," << 1.1 / e << ",0.3,0.8,0.001,1,0.2,1e5,300\n";
  }
  {
    std::ofstream mem(run.memory_csv());
    mem << "t_s,rss_mb,peak_rss_mb,available_mb,cuda_allocated_mb,cuda_reserved_mb,nvml_used_mb,nvml_total_mb,"
           "phase,epoch,event\n";
    for (int i = 0; i < samples; ++i) {
      const char* event = i % 25 == 0 ? "epoch end" : i % 7 == 0 ? "trim" : "";
      mem << i * 0.1 << "," << 300 + (i % 50) * 0.2 << ",320,8000,,,,," << (i < 20 ? "load" : "train") << ","
          << i / 25 << "," << event << "\n";
    }
  }
  const auto val = make_outputs(rows, 1), test = make_outputs(rows, 2);
  se::write_predictions_csv(val, kTargets, run.predictions_csv("val"));
  se::write_predictions_csv(test, kTargets, run.predictions_csv("test"));
  se::write_metrics_json({{"best_epoch", epochs - 2}, {"loss_units", "MSE, standardised targets"}},
                         run.metrics_json());
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Best of `repeats` calls: process CPU seconds (what the stage costs; the shared 2-core machine's wall
// time swings with other builds) and wall seconds.
struct Timing {
  double cpu = 1e300, wall = 1e300;
};
Timing best_of(int repeats, const std::function<void()>& work) {
  Timing best;
  for (int i = 0; i < repeats; ++i) {
    const double cpu_start = cpu_seconds();
    const auto start = Clock::now();
    work();
    best.cpu = std::min(best.cpu, cpu_seconds() - cpu_start);
    best.wall = std::min(best.wall, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

void print(const char* what, Timing t, int figures = 1) {
  std::printf("  %-40s CPU %7.3f s  wall %7.3f s", what, t.cpu, t.wall);
  if (figures > 1) std::printf("  (CPU %.3f s per figure)", t.cpu / figures);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"plot_bench: seconds per end-of-run figure for a quickstart-sized run"};
  int64_t rows = 10000;
  int epochs = 20, samples = 600, repeats = 3;
  std::string dir = (fs::temp_directory_path() / "safetrain_plot_bench").string();
  app.add_option("--rows", rows, "rows per split (val and test)");
  app.add_option("--epochs", epochs, "rows of metrics.csv");
  app.add_option("--samples", samples, "rows of memory.csv");
  app.add_option("--repeats", repeats, "best of this many runs per figure");
  app.add_option("--dir", dir, "scratch run directory (replaced)");
  CLI11_PARSE(app, argc, argv);
  torch::set_num_threads(1);

  const safetrain::RunLayout run{fs::path(dir)};
  write_run(run, rows, epochs, samples);
  const auto val = se::read_predictions_csv(run.predictions_csv("val"));
  se::StreamingMetrics metrics(kTargets);
  metrics.update(val.outputs.predictions, val.outputs.targets);

  std::printf("plot_bench: %zu targets, %lld rows per split, %d epochs, %d memory samples (best of %d)\n",
              kTargets.size(), static_cast<long long>(rows), epochs, samples, repeats);
  const Timing read_csv = best_of(repeats, [&] { se::read_predictions_csv(run.predictions_csv("val")); });
  const Timing scatter = best_of(repeats, [&] {
    se::write_scatter_plots(val.outputs, kTargets, metrics, run.root() / "bench_plots", {"val", 20});
  });
  const Timing loss = best_of(repeats, [&] {
    se::write_loss_curve({{1, 1.0, 1.1}, {2, 0.5, 0.6}, {3, 0.3, 0.4}}, run.root() / "bench_plots" / "loss.png");
  });
  const Timing memory = best_of(repeats, [&] { se::write_memory_curve(run.memory_csv(), run.root() / "m.png"); });
  const Timing stage = best_of(repeats, [&] { se::redraw_run(run.root()); });
  print("read predictions CSV (one split)", read_csv);
  print("scatter, one split (6 panels + grid)", scatter, static_cast<int>(kTargets.size()) + 1);
  print("loss curve", loss);
  print("memory curve", memory);
  print("whole stage (redraw_run, 2 splits)", stage, 2 * (static_cast<int>(kTargets.size()) + 1) + 2);
  std::printf("  whole stage / 1 s target: CPU %.2fx, wall %.2fx\n", stage.cpu, stage.wall);
  return 0;
}
