// data.storage: mmap through the trainer: the same run as in memory, caches reused on the next run, and a
// table of over a gigabyte on disk trained within 64 MB of anonymous memory above a tiny in-memory run.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

// rows x (columns - 1) features and one target y, a smooth function of the first features plus noise.
fs::path write_table(const fs::path& file, int64_t rows, int columns) {
  std::ofstream out(file, std::ios::binary);
  for (int c = 0; c + 1 < columns; ++c) out << 'f' << c << ',';
  out << "y\n";
  std::string line;
  char cell[32];
  uint64_t state = 88172645463325252ULL;
  for (int64_t r = 0; r < rows; ++r) {
    line.clear();
    double first = 0;
    for (int c = 0; c + 1 < columns; ++c) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;  // xorshift: fast and reproducible
      const double v = static_cast<double>(state % 2000000) / 1000000.0 - 1.0;
      if (c < 3) first += v;
      line.append(cell, std::to_chars(cell, cell + sizeof cell, v, std::chars_format::fixed, 6).ptr);
      line += ',';
    }
    line.append(cell, std::to_chars(cell, cell + sizeof cell, first * first, std::chars_format::fixed, 6).ptr);
    line += '\n';
    out << line;
  }
  return file;
}

std::string csv_settings(const fs::path& csv, const std::string& storage, const std::string& more_data = "") {
  return "data:\n  source: csv\n  path: " + csv.string() + "\n  targets: [y]\n  storage: " + storage + "\n" +
         more_data + "descriptors:\n  enabled: false\n";
}

// The largest rss_anon_mb the run's monitor sampled.
double peak_anonymous_mb(const fs::path& run_dir) {
  const auto lines = read_lines(run_dir / "memory.csv");
  EXPECT_GT(lines.size(), 2u);
  EXPECT_EQ(lines.at(0).rfind("t_s,rss_mb,rss_anon_mb,rss_file_mb,", 0), 0u) << lines.at(0);
  double peak = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto first = lines[i].find(',') + 1, second = lines[i].find(',', first) + 1;
    peak = std::max(peak, std::stod(lines[i].substr(second)));
  }
  return peak;
}

}  // namespace

TEST(MappedStorage, TrainsLikeTheInMemoryRunAndReusesItsCache) {
  const auto dir = scratch("mapped_same");
  const auto csv = write_table(dir / "table.csv", 3000, 8);
  const auto memory = run({"trainer", "--config", tiny_config(dir, csv_settings(csv, "memory")).string(),
                           "--set", "output.run_name=in_memory"});
  ASSERT_EQ(memory.exit_code, 0) << memory.err;
  const auto mapped = run({"trainer", "--config", tiny_config(dir, csv_settings(csv, "mmap")).string(),
                           "--set", "output.run_name=mapped"});
  ASSERT_EQ(mapped.exit_code, 0) << mapped.err;
  EXPECT_NE(mapped.err.find("for data.storage: mmap"), std::string::npos) << mapped.err;
  EXPECT_EQ(read_text(dir / "runs/in_memory/metrics.csv").substr(0, 200).find("val_loss"),
            read_text(dir / "runs/mapped/metrics.csv").substr(0, 200).find("val_loss"));
  // Same rows, same order, same scaling: the losses agree to the last digit (1 thread).
  const auto loss_lines = [](const fs::path& metrics) {
    auto lines = read_lines(metrics);
    for (auto& l : lines) l = l.substr(0, l.find(",", l.find(",", l.find(",") + 1) + 1));  // epoch,train,val
    return lines;
  };
  EXPECT_EQ(loss_lines(dir / "runs/in_memory/metrics.csv"), loss_lines(dir / "runs/mapped/metrics.csv"));
  const auto again = run({"trainer", "--config", tiny_config(dir, csv_settings(csv, "mmap")).string(),
                          "--set", "output.run_name=mapped_again"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("converting"), std::string::npos) << "the cache was rebuilt:\n" << again.err;
}

TEST(MappedStorage, AGigabyteTableTrainsWithin64MbOfAnonymousMemoryOverATinyRun) {
  const auto dir = scratch("mapped_gigabyte");
  const auto tiny = write_table(dir / "tiny.csv", 2000, 40);
  const auto big = write_table(dir / "big.csv", 2'800'000, 40);  // 40 columns x 2.8 M rows: ~1.06 GB of text
  ASSERT_GE(fs::file_size(big), 1'000'000'000u);
  const std::string short_run = "training:\n  max_epochs: 1\n  limit_train_batches: 40\n  early_stopping: false\n";
  const auto small = run({"trainer", "--config", tiny_config(dir, csv_settings(tiny, "memory") + short_run).string(),
                          "--set", "output.run_name=tiny"});
  ASSERT_EQ(small.exit_code, 0) << small.err;
  // 6,000 validation and test rows each: the test is about the table, not about a long evaluation.
  const std::string fractions = "  train_fraction: 0.992\n  val_fraction: 0.004\n  test_fraction: 0.004\n";
  const auto large = run({"trainer", "--config", tiny_config(dir, csv_settings(big, "mmap", fractions) + short_run).string(),
                          "--set", "output.run_name=big"});
  ASSERT_EQ(large.exit_code, 0) << large.err;
  const double growth = peak_anonymous_mb(dir / "runs/big") - peak_anonymous_mb(dir / "runs/tiny");
  std::cout << "peak anonymous RSS: tiny in memory " << peak_anonymous_mb(dir / "runs/tiny") << " MB, "
            << fs::file_size(big) / 1e6 << " MB table mapped " << peak_anonymous_mb(dir / "runs/big") << " MB\n";
  EXPECT_LT(growth, 64.0) << "anonymous memory grew " << growth << " MB for a table of " << fs::file_size(big) / 1e6
                          << " MB";
  EXPECT_NE(large.err.find("memory-mapped"), std::string::npos) << large.err;
  fs::remove_all(dir);  // 2 GB of table and caches
}
