// memleak_check: N train+validate cycles in one process, memory after each,
// PASS/FAIL on the growth per cycle (the seed's test_memory_leak, for this trainer).
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <cstdio>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/openmp_policy.hpp"
#include "safetrain/monitor/leak_detector.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/train/session.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/common/units.hpp"

namespace fs = std::filesystem;
using namespace safetrain;

int main(int argc, char** argv) {
  ensure_passive_openmp(argv);
  CLI::App app{"safetrain memleak_check: runs N train+validate cycles of a config in-process, prints RSS after\n"
               "each cycle and the growth per cycle (robust slope after the first cycle), and exits 0 (PASS) or\n"
               "1 (FAIL) against --max-growth-mb. Run files go to a temporary directory unless --keep."};
  std::string config_path;
  int cycles = 10;
  double max_growth_mb = 1.0;
  std::vector<std::string> overrides;
  bool keep = false;
  app.add_option("-c,--config", config_path, "YAML config")->required();
  app.add_option("--cycles", cycles, "train+validate cycles")->check(CLI::Range(3, 100000))->capture_default_str();
  app.add_option("--max-growth-mb", max_growth_mb, "allowed RSS growth per cycle")->capture_default_str();
  app.add_option("--set", overrides, "override a config key (repeatable)");
  app.add_flag("--keep", keep, "keep the run directory");
  SAFETRAIN_PARSE(app, argc, argv);

  return guarded_main("memleak_check", [&] {
    std::vector<config::Override> parsed;
    for (const auto& text : overrides) parsed.push_back(config::parse_override(text));
    parsed.push_back(config::parse_override("training.max_epochs=" + std::to_string(cycles)));
    parsed.push_back(config::parse_override("training.early_stopping=false"));
    const fs::path run_dir = fs::temp_directory_path() / ("safetrain-memleak-" + std::to_string(::getpid()));
    // Everything, the descriptor cache under output.dir included, goes to the temporary directory.
    parsed.push_back(config::parse_override("output.dir=" + (run_dir / "output").string()));
    const auto resolved = config::load_config(config_path, parsed);
    auto config = config::make_config(resolved.tree, resolved.file.string());
    train::SessionOptions options;
    options.run_dir = run_dir;
    StopSignals signals;
    std::vector<double> cycle_index, rss_mb;
    {
      train::TrainingSession session(std::move(config), options);
      session.setup();
      std::printf("cycle  rss_mb   delta_mb\n");
      for (int cycle = 0; cycle < cycles && !StopSignals::requested(); ++cycle) {
        session.run_epoch(cycle, /*validate=*/true);
        monitor::release_cached_memory();
        const double rss = bytes_to_mb(monitor::current_rss_bytes());
        std::printf("%5d  %7.1f  %+8.2f\n", cycle + 1, rss, rss_mb.empty() ? 0.0 : rss - rss_mb.back());
        std::fflush(stdout);
        cycle_index.push_back(cycle);
        rss_mb.push_back(rss);
      }
    }
    if (!keep) fs::remove_all(run_dir);
    if (rss_mb.size() < 3) throw std::runtime_error("interrupted before 3 cycles: no verdict");
    // The first cycle allocates the model, optimizer state and buffers: growth is measured after it.
    const std::vector<double> xs(cycle_index.begin() + 1, cycle_index.end());
    const std::vector<double> ys(rss_mb.begin() + 1, rss_mb.end());
    const double slope = monitor::theil_sen_slope(xs, ys);
    const bool pass = slope <= max_growth_mb;
    std::printf("growth: %+.3f MB/cycle after cycle 1 (limit %.3f): %s\n", slope, max_growth_mb, pass ? "PASS" : "FAIL");
    if (keep) std::printf("run files: %s\n", run_dir.c_str());
    return pass ? 0 : 1;
  });
}
