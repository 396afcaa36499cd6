// Average ranks with ties, the first step of Spearman and of the RDC copula transform.
#include <ATen/Parallel.h>

#include <cmath>

#include "passes.hpp"

namespace safetrain::data::descriptors {

torch::Tensor average_ranks(const torch::Tensor& values) {
  const auto k = values.size(0), n = values.size(1);
  auto ranks = torch::empty({k, n}, torch::kFloat);
  if (n == 0) return ranks;
  // torch sorts every row in parallel; NaN sorts last. Tie averaging is a linear walk per row.
  const auto sorted = values.to(torch::kFloat).sort(1);
  const auto order = std::get<1>(sorted).contiguous();
  const auto sorted_values = std::get<0>(sorted).contiguous();
  float* out = ranks.data_ptr<float>();
  const int64_t* idx = order.data_ptr<int64_t>();
  const float* v = sorted_values.data_ptr<float>();
  at::parallel_for(0, k, 1, [&](int64_t first, int64_t last) {
    for (int64_t row = first; row < last; ++row) {
      const int64_t base = row * n;
      int64_t valid = 0;
      while (valid < n && !std::isnan(v[base + valid])) ++valid;
      for (int64_t start = 0; start < valid;) {
        int64_t end = start + 1;
        while (end < valid && v[base + end] == v[base + start]) ++end;
        const float rank = 0.5f * static_cast<float>(start + 1 + end);  // mean of ranks start+1..end
        for (int64_t i = start; i < end; ++i) out[base + idx[base + i]] = rank;
        start = end;
      }
      const float middle = 0.5f * static_cast<float>(valid + 1);
      for (int64_t i = valid; i < n; ++i) out[base + idx[base + i]] = middle;
    }
  });
  return ranks;
}

}  // namespace safetrain::data::descriptors
