// Pass 0: per-column statistics in one streaming pass, one batch in memory at a time.
#include <cmath>
#include <cstring>

#include "passes.hpp"

namespace safetrain::data::descriptors {

std::vector<ColumnStats> compute_stats(TableSource& source) {
  const size_t width = source.columns().size();
  std::vector<ColumnStats> stats(width);
  source.rewind();
  while (auto batch = source.next_batch()) {
    const auto values = batch->contiguous();
    const float* data = values.data_ptr<float>();
    const int64_t rows = values.size(0);
    for (int64_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < width; ++c) {
        const float v = data[r * static_cast<int64_t>(width) + static_cast<int64_t>(c)];
        auto& s = stats[c];
        uint32_t bits = 0x7fc00000u;  // one NaN pattern, so duplicates with missing cells still match
        if (!std::isnan(v)) std::memcpy(&bits, &v, sizeof bits);
        s.hash = (s.hash ^ bits) * 1099511628211ULL;
        if (std::isnan(v)) {
          ++s.missing;
          continue;
        }
        ++s.count;
        const double delta = v - s.mean;
        s.mean += delta / static_cast<double>(s.count);
        s.m2 += delta * (v - s.mean);
        s.min = std::min(s.min, static_cast<double>(v));
        s.max = std::max(s.max, static_cast<double>(v));
      }
    }
  }
  return stats;
}

}  // namespace safetrain::data::descriptors
