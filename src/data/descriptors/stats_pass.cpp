// Pass 0: per-column statistics in one streaming pass, one batch in memory at a time.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "passes.hpp"

namespace safetrain::data::descriptors {

namespace {

// One cell into its column's running figures (Welford's mean and M2, the content hash, min, max).
inline void add_cell(ColumnStats& s, float v) {
  uint32_t bits = 0x7fc00000u;  // one NaN pattern, so duplicates with missing cells still match
  if (!std::isnan(v)) std::memcpy(&bits, &v, sizeof bits);
  s.hash = (s.hash ^ bits) * 1099511628211ULL;
  if (std::isnan(v)) {
    ++s.missing;
    return;
  }
  ++s.count;
  const double delta = v - s.mean;
  s.mean += delta / static_cast<double>(s.count);
  s.m2 += delta * (v - s.mean);
  s.min = std::min(s.min, static_cast<double>(v));
  s.max = std::max(s.max, static_cast<double>(v));
}

constexpr int64_t kColumnsPerTask = 64;

bool has_repeated_name(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end();
}

// A source that reads column-wise (Parquet: TableSource::read_columns) in blocks of columns, a batch's bytes
// each: every column's cells still come in row order, so the figures are the same bit for bit, while no row
// group is staged (a 64k-row group of 2,000 columns is 512 MB) and each column's cells are contiguous.
// False, having read nothing, for other formats (CSV would tokenize the file again for every block).
bool stats_by_column_blocks(const TableSource& source, std::vector<ColumnStats>& stats) {
  const auto rows = source.row_count();
  const auto& names = source.columns();
  const auto width = static_cast<int64_t>(names.size());
  if (!source.reads_columns() || !rows || *rows == 0 || width == 0 || has_repeated_name(names)) return false;
  const int64_t block = std::clamp<int64_t>(source.batch_rows() * width / *rows, 1, width);
  std::vector<float> columns(static_cast<size_t>(block * *rows));
  for (int64_t first = 0; first < width; first += block) {
    const int64_t k = std::min(block, width - first);
    const auto projected = source.with_columns({names.begin() + first, names.begin() + first + k});
    const int64_t read = projected->read_columns(columns.data(), *rows);
    at::parallel_for(0, k, 1, [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const float* cells = columns.data() + c * *rows;
        for (int64_t r = 0; r < read; ++r) add_cell(stats[static_cast<size_t>(first + c)], cells[r]);
      }
    });
  }
  return true;
}

}  // namespace

std::vector<ColumnStats> compute_stats(TableSource& source) {
  const auto width = static_cast<int64_t>(source.columns().size());
  std::vector<ColumnStats> stats(static_cast<size_t>(width));
  if (stats_by_column_blocks(source, stats)) return stats;
  source.rewind();
  while (auto batch = source.next_batch()) {
    const auto values = batch->contiguous();
    const float* data = values.data_ptr<float>();
    const int64_t rows = values.size(0);
    // Columns apart on the intra-op threads: each column still sees its cells in row order, so the figures
    // are the same bit for bit on any thread count (this pass was one thread's work at 2,000 columns).
    at::parallel_for(0, width, kColumnsPerTask, [&](int64_t first, int64_t last) {
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = data + r * width;
        for (int64_t c = first; c < last; ++c) add_cell(stats[static_cast<size_t>(c)], row[c]);
      }
    });
  }
  return stats;
}

}  // namespace safetrain::data::descriptors
