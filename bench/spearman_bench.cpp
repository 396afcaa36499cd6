// spearman_bench: our Spearman against pandas DataFrame.corr('spearman') on the same CSV, then the whole
// descriptor pipeline's seconds and peak RSS. Targets (issue 18): >= 20x pandas on a realistic
// 17,000 x 208 table, >= 50x on 20,000 x 1,000.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "passes.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/monitor/process_memory.hpp"

namespace ds = safetrain::data::descriptors;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Groups of correlated columns (a shared factor plus noise), rounded so ties occur.
void write_csv(const fs::path& path, int64_t rows, int64_t columns, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::ofstream out(path);
  for (int64_t c = 0; c < columns; ++c) out << (c ? "," : "") << "f" << c;
  out << "\n";
  std::vector<double> factors(static_cast<size_t>(columns / 10 + 1));
  char cell[32];
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& f : factors) f = normal(rng);
    for (int64_t c = 0; c < columns; ++c) {
      const double v = factors[static_cast<size_t>(c / 10)] + 0.3 * normal(rng);
      std::snprintf(cell, sizeof cell, "%s%.3f", c ? "," : "", v);
      out << cell;
    }
    out << "\n";
  }
}

// Shaped like a descriptor table: ~30% integer counts (Poisson, some sparse fragment counts), the
// rest correlated real-valued groups rounded to 3 decimals, and ~1% empty (NaN) cells in 3 columns.
void write_realistic_csv(const fs::path& path, int64_t rows, int64_t columns, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;
  std::ofstream out(path);
  for (int64_t c = 0; c < columns; ++c) out << (c ? "," : "") << "d" << c;
  out << "\n";
  std::vector<double> factors(static_cast<size_t>(columns / 8 + 1));
  std::vector<std::poisson_distribution<int>> counts;
  for (int64_t c = 0; c < columns; ++c) counts.emplace_back(c % 20 == 1 ? 0.005 : 0.5 + static_cast<double>(c % 7));
  char cell[40];
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& f : factors) f = normal(rng);
    for (int64_t c = 0; c < columns; ++c) {
      const char* sep = c ? "," : "";
      if (c % 70 == 5 && uniform(rng) < 0.01) {
        out << sep;
      } else if (c % 10 < 3) {
        std::snprintf(cell, sizeof cell, "%s%d", sep, counts[static_cast<size_t>(c)](rng));
        out << cell;
      } else {
        const double v = factors[static_cast<size_t>(c / 8)] + 0.4 * normal(rng);
        std::snprintf(cell, sizeof cell, "%s%.3f", sep, v);
        out << cell;
      }
    }
    out << "\n";
  }
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spearman_bench: safetrain Spearman vs pandas DataFrame.corr('spearman')"};
  int64_t rows = 20000, columns = 1000;
  std::string csv, table = "realistic";
  bool skip_pandas = false, skip_pipeline = false;
  app.add_option("--rows", rows, "rows of the generated CSV")->capture_default_str();
  app.add_option("--columns", columns, "columns of the generated CSV")->capture_default_str();
  app.add_option("--csv", csv, "use this CSV instead of generating one");
  app.add_option("--table", table, "generated table: realistic (descriptor-shaped) or independent (groups, 3 decimals)")
      ->check(CLI::IsMember({"realistic", "independent"}))
      ->capture_default_str();
  app.add_flag("--skip-pandas", skip_pandas, "time only safetrain");
  app.add_flag("--skip-pipeline", skip_pipeline, "time only the Spearman matrix");
  CLI11_PARSE(app, argc, argv);
  if (csv.empty()) {
    csv = (fs::temp_directory_path() /
           ("spearman_bench_" + table + "_" + std::to_string(rows) + "x" + std::to_string(columns) + ".csv"))
              .string();
    if (!fs::exists(csv)) {
      if (table == "realistic") {
        write_realistic_csv(csv, rows, columns, 1);
      } else {
        write_csv(csv, rows, columns, 1);
      }
    }
  }
  std::cout << "input: " << csv << "\n";

  // Ours: read (streamed), rank, one blocked product; the read is timed apart, as pandas' is.
  auto start = Clock::now();
  const auto opened = safetrain::data::open_table_source(csv, {});
  auto& source = *opened;
  source.set_batch_rows(8192);
  std::vector<int64_t> all(source.columns().size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  const auto values = ds::load_columns(source, all);
  const double read_s = seconds_since(start);
  start = Clock::now();
  const auto rho = ds::spearman_matrix(values, ds::NanPolicy::pairwise);
  const double ours_s = seconds_since(start);
  std::cout << "safetrain spearman: " << ours_s << " s (CSV read " << read_s << " s), " << rho.size(0) << "x"
            << rho.size(1) << "\n";

  if (!skip_pandas) {
    const auto timing = fs::temp_directory_path() / "spearman_bench_pandas.txt";
    const std::string command =
        "/usr/bin/python3 -c \"import sys,time,pandas as pd; df=pd.read_csv(sys.argv[1]); t=time.perf_counter(); "
        "df.corr(method='spearman'); print(time.perf_counter()-t)\" '" + csv + "' > '" + timing.string() + "'";
    if (std::system(command.c_str()) == 0) {
      double pandas_s = 0;
      std::ifstream(timing) >> pandas_s;
      std::cout << "pandas corr('spearman'): " << pandas_s << " s; speed-up " << pandas_s / ours_s
                << "x (target >= 20x realistic 17,000 x 208, >= 50x 20,000 x 1,000)\n";
    } else {
      std::cout << "pandas unavailable (python3-pandas); no ratio\n";
    }
  }

  if (skip_pipeline) return 0;
  start = Clock::now();
  ds::DescriptorOptions o;
  o.batch_rows = 8192;
  source.rewind();
  const auto result = ds::run_pipeline(source, o);
  std::cout << "whole pipeline: " << seconds_since(start) << " s, kept " << result.kept_columns.size() << " of "
            << source.columns().size() << " columns, peak RSS "
            << static_cast<double>(safetrain::monitor::peak_rss_bytes()) / (1024.0 * 1024.0) << " MB\n";
  return 0;
}
