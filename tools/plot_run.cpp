// plot_run RUN_DIR: redraw a finished run's plots from its CSV files.
#include <CLI/CLI.hpp>

#include <iostream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/guarded_main.hpp"
#include "safetrain/eval/run_plots.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Redraw RUN_DIR/plots/* (loss, memory, scatter plots) from the run's metrics.csv, memory.csv and "
               "predictions/*.csv"};
  std::string run_dir;
  app.add_option("RUN_DIR", run_dir, "a safetrain run output directory")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the parse error
    return code == 0 ? 0 : safetrain::kExitInputError;
  }
  return safetrain::guarded_main("plot_run", [&] {
    for (const auto& path : safetrain::eval::redraw_run(run_dir)) std::cout << path.string() << "\n";
    return 0;
  });
}
