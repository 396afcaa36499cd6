// Pass 0: per-column statistics in one streaming pass, one batch in memory at a time.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>

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

}  // namespace

std::vector<ColumnStats> compute_stats(TableSource& source) {
  const auto width = static_cast<int64_t>(source.columns().size());
  std::vector<ColumnStats> stats(static_cast<size_t>(width));
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
