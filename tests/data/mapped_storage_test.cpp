// data.storage: mmap — the CSV converted once into mapped cache files. The prepared splits equal the
// in-memory path's bit for bit under every missing-value policy, live in the cache file (not in anonymous
// memory), are reused on the next run, and a damaged cache is rebuilt rather than trusted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>

#include "safetrain/common/error.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/data/mapped_storage.hpp"
#include "../support/input_error_of.hpp"
#include "../support/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace safetrain::data;
using safetrain::testing_support::input_error_of;

namespace {

// 300 rows: three features, two targets; NaN in feature f1 every 17th row and in target t1 every 41st.
fs::path write_table(const fs::path& dir, bool with_gaps) {
  const auto file = dir / "table.csv";
  std::ofstream out(file);
  out << "f0,f1,f2,t0,t1\n";
  for (int r = 0; r < 300; ++r) {
    const bool gap_f = with_gaps && r % 17 == 3, gap_t = with_gaps && r % 41 == 5;
    out << std::sin(r * 0.1) << ',' << (gap_f ? std::string("NA") : std::to_string(r % 13 * 0.5)) << ','
        << (r * 7 % 11) << ',' << std::cos(r * 0.2) * 3 << ',' << (gap_t ? std::string("") : std::to_string(r * 0.01))
        << '\n';
  }
  return file;
}

ColumnSelection targets_t() {
  ColumnSelection s;
  s.targets = {"t0", "t1"};
  return s;
}

void expect_same(const PreparedData& a, const PreparedData& b) {
  EXPECT_EQ(a.feature_names, b.feature_names);
  EXPECT_EQ(a.target_names, b.target_names);
  const std::pair<const SplitTensors*, const SplitTensors*> parts[] = {
      {&a.train, &b.train}, {&a.val, &b.val}, {&a.test, &b.test}};
  for (const auto& [p, q] : parts) {
    ASSERT_EQ(p->size(), q->size());
    EXPECT_TRUE(torch::equal(p->x, q->x));
    EXPECT_TRUE(torch::equal(p->y, q->y));
    EXPECT_TRUE(torch::equal(p->row_ids, q->row_ids));
  }
  EXPECT_TRUE(torch::equal(a.feature_scaler.mean, b.feature_scaler.mean));
  EXPECT_TRUE(torch::equal(a.feature_scaler.std, b.feature_scaler.std));
  EXPECT_TRUE(torch::equal(a.target_scaler.mean, b.target_scaler.mean));
  EXPECT_TRUE(torch::equal(a.target_scaler.std, b.target_scaler.std));
}

// Whether `address` lies in a mapping of `file` (a line of /proc/self/maps naming it).
bool mapped_from(const void* address, const fs::path& file) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto at = reinterpret_cast<uintptr_t>(address);
  while (std::getline(maps, line)) {
    unsigned long long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx", &lo, &hi) != 2 || at < lo || at >= hi) continue;
    return line.find(file.string()) != std::string::npos;
  }
  return false;
}

std::vector<fs::path> files_with_extension(const fs::path& dir, const std::string& extension) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == extension) found.push_back(entry.path());
  }
  return found;
}

}  // namespace

TEST(MappedStorage, EqualsTheInMemoryPathUnderEveryMissingValuePolicy) {
  for (const auto policy : {NanPolicy::error, NanPolicy::drop_rows, NanPolicy::fill_mean}) {
    const auto dir = safetrain::testing_support::scratch_dir("mapped_equal");
    const auto csv = write_table(dir, policy != NanPolicy::error);
    SplitOptions o;
    o.nan_policy = policy;
    o.seed = 11;
    const auto in_memory = prepare(read_table(csv.string()), targets_t(), o);
    const auto table = map_source_table(csv.string(), {}, {}, o, dir / "cache");
    const auto mapped = prepare_mapped(table, targets_t(), o, dir / "cache");
    SCOPED_TRACE(static_cast<int>(policy));
    expect_same(in_memory, mapped);
    EXPECT_GT(mapped.train.size(), 200);
  }
}

TEST(MappedStorage, SplitTensorsAreViewsOfTheCacheFileAndSurviveTheirTable) {
  const auto dir = safetrain::testing_support::scratch_dir("mapped_views");
  const auto csv = write_table(dir, false);
  PreparedData data;
  {
    const auto table = map_source_table(csv.string(), {}, {}, {}, dir / "cache");
    data = prepare_mapped(table, targets_t(), {}, dir / "cache");
  }  // the table and its mapping handle are gone; the tensors keep their mapping alive
  const auto prepared = files_with_extension(dir / "cache", ".prepared");
  ASSERT_EQ(prepared.size(), 1u);
  EXPECT_TRUE(mapped_from(data.train.x.data_ptr(), prepared.front()));
  EXPECT_TRUE(mapped_from(data.test.y.data_ptr(), prepared.front()));
  EXPECT_FALSE(mapped_from(torch::ones({1024}).data_ptr(), prepared.front()));
  EXPECT_NEAR(data.train.x.mean().item<double>(), 0.0, 1e-4);  // standardised with the training statistics
}

TEST(MappedStorage, ASecondRunReusesTheCachesAndADamagedOneIsRebuilt) {
  const auto dir = safetrain::testing_support::scratch_dir("mapped_reuse");
  const auto csv = write_table(dir, false);
  const auto first = prepare_mapped(map_source_table(csv.string(), {}, {}, {}, dir / "cache"), targets_t(), {}, dir / "cache");
  const auto table_file = files_with_extension(dir / "cache", ".table").at(0);
  const auto written = fs::last_write_time(table_file);
  map_source_table(csv.string(), {}, {}, {}, dir / "cache");
  EXPECT_EQ(fs::last_write_time(table_file), written) << "an intact cache is reused, not rewritten";

  {  // one flipped byte in the payload: the checksum refuses it
    std::fstream f(table_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 + 40);
    f.put('\x7f');
  }
  const auto rebuilt = map_source_table(csv.string(), {}, {}, {}, dir / "cache");
  EXPECT_TRUE(torch::equal(rebuilt.split_values(0), read_table(csv.string()).values.index_select(
                                                        0, split_indices(300, {}).train)));
  fs::resize_file(table_file, fs::file_size(table_file) - 10);  // truncated
  const auto again = prepare_mapped(map_source_table(csv.string(), {}, {}, {}, dir / "cache"), targets_t(), {}, dir / "cache");
  expect_same(first, again);
}

TEST(MappedStorage, MissingValuesUnderTheErrorPolicyLeaveNoCacheBehind) {
  const auto dir = safetrain::testing_support::scratch_dir("mapped_refused");
  const auto csv = write_table(dir, true);
  const auto table = map_source_table(csv.string(), {}, {}, {}, dir / "cache");
  const auto message = input_error_of([&] { prepare_mapped(table, targets_t(), {}, dir / "cache"); });
  EXPECT_NE(message.find("missing value"), std::string::npos) << message;
  EXPECT_NE(message.find("table.csv"), std::string::npos) << message;
  EXPECT_TRUE(files_with_extension(dir / "cache", ".prepared").empty());
  for (const auto& entry : fs::directory_iterator(dir / "cache")) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(MappedStorage, ATemporaryFileOfAKilledConversionIsRemovedOneOfALiveProcessIsNot) {
  const auto dir = safetrain::testing_support::scratch_dir("mapped_abandoned");
  const auto csv = write_table(dir, false);
  fs::create_directories(dir / "cache");
  const auto abandoned = dir / "cache" / "0123.table.tmp.2147483000";  // no such process
  const auto live = dir / "cache" / ("0456.table.tmp." + std::to_string(::getpid()));
  std::ofstream(abandoned) << "half a table";
  std::ofstream(live) << "being written";
  map_source_table(csv.string(), {}, {}, {}, dir / "cache");
  EXPECT_FALSE(fs::exists(abandoned));
  EXPECT_TRUE(fs::exists(live));
}

TEST(MappedStorage, AnEditedInputGetsItsOwnCacheAndTheOldVersionsCachesGo) {
  const auto dir = safetrain::testing_support::scratch_dir("mapped_edited");
  const auto csv = write_table(dir, false);
  const auto before = map_source_table(csv.string(), {}, {}, {}, dir / "cache");
  prepare_mapped(before, targets_t(), {}, dir / "cache");
  SplitOptions other_split;
  other_split.seed = 5;  // another split of the same version: a cache worth keeping
  map_source_table(csv.string(), {}, {}, other_split, dir / "cache");
  ASSERT_EQ(files_with_extension(dir / "cache", ".table").size(), 2u);
  ASSERT_EQ(files_with_extension(dir / "cache", ".prepared").size(), 1u);
  std::ofstream(csv, std::ios::app) << "1,2,3,4,5\n";
  const auto after = map_source_table(csv.string(), {}, {}, {}, dir / "cache");
  EXPECT_EQ(before.values.size(0) + 1, after.values.size(0));
  EXPECT_NE(before.key, after.key);
  // Both caches of the old version and the prepared cache made from one are gone; the new one is there.
  const auto tables = files_with_extension(dir / "cache", ".table");
  ASSERT_EQ(tables.size(), 1u);
  EXPECT_NE(tables.front().filename().string().find(after.key), std::string::npos);
  EXPECT_TRUE(files_with_extension(dir / "cache", ".prepared").empty());
  EXPECT_TRUE(std::isfinite(before.values.sum().item<double>()));  // removed, yet still mapped and readable
}
