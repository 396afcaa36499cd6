// table_load_bench [--warm SMALL_TABLE] FILE_OR_GLOB: one load through safetrain's table layer (read_table, as
// the trainer's data.storage: memory does), in a fresh process, after an optional read of a small table of the
// same format (its code pages in, so they are not counted as the load's memory). Prints one line:
//   seconds=S cpu_seconds=U peak_above_start_kb=K data_kb=D rows=R columns=C
// (cpu_seconds: user and system time of all the process's threads during the load).
// The peak is VmHWM after the load less VmRSS before it (VmHWM reset through /proc/self/clear_refs).
// bench/table_load_bench.py runs it side by side with pandas and pyarrow.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/data/table_source.hpp"

namespace {

long status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  }
  return -1;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

int load(const std::string& input, const std::string& warm) {
  torch::empty({1});  // LibTorch's allocator and code pages in before the baseline
  if (!warm.empty()) safetrain::data::read_table(warm);
  std::ofstream("/proc/self/clear_refs") << "5";
  const long before = status_kb("VmRSS:");
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_seconds();
  safetrain::data::TableReadStats stats;
  const auto table = safetrain::data::read_table(input, {}, {}, &stats);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("seconds=%.3f cpu_seconds=%.3f peak_above_start_kb=%ld data_kb=%ld rows=%ld columns=%ld\n", seconds,
              cpu_seconds() - cpu_start,
              status_kb("VmHWM:") - before, static_cast<long>(stats.rows * stats.columns * 4 / 1024),
              static_cast<long>(stats.rows), static_cast<long>(stats.columns));
  return table.values.size(0) > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"table_load_bench: load one table through safetrain's table layer; time and peak RSS"};
  std::string input, warm;
  app.add_option("input", input, "table file or glob (CSV, .csv.gz, Parquet)")->required();
  app.add_option("--warm", warm, "a small table of the same format, read first");
  CLI11_PARSE(app, argc, argv);
  // A missing or bad table ends with the tools' message and exit code, not std::terminate.
  return safetrain::guarded_main("table_load_bench", [&] { return load(input, warm); });
}
