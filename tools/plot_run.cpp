// plot_run RUN_DIR: redraw a finished run's plots from its CSV files.
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"

#include <iostream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/guarded_main.hpp"
#include "safetrain/eval/run_plots.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Redraw RUN_DIR/plots/* (loss, memory, scatter plots) from the run's metrics.csv, memory.csv and "
               "predictions/*.csv"};
  std::string run_dir;
  app.add_option("RUN_DIR", run_dir, "a safetrain run output directory")->required();
  SAFETRAIN_PARSE(app, argc, argv);
  return safetrain::guarded_main("plot_run", [&] {
    for (const auto& path : safetrain::eval::redraw_run(run_dir)) std::cout << path.string() << "\n";
    return 0;
  });
}
