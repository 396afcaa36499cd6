// The row sample of the kernel passes. A uniform sample loses rare fragment counts (a few dozen
// non-zero rows in thousands): such a column came out constant and RDC called it identical to
// another constant one. Rare columns therefore bring their non-zero rows, and a column still too
// thin in the sample is not judged by HSIC or RDC at all.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "passes.hpp"

namespace safetrain::data::descriptors {
namespace {

constexpr int64_t kRareRows = 32;  // a column expected to show fewer non-zero sample rows is rare

// Up to kRareRows non-zero rows of each rare column, at most half the sample in all.
std::vector<bool> reserved_rows(const torch::Tensor& values, int64_t rows, at::Generator& generator) {
  const int64_t k = values.size(0), n = values.size(1);
  const float* data = values.data_ptr<float>();
  std::vector<bool> chosen(static_cast<size_t>(n), false);
  int64_t taken = 0;
  for (int64_t c = 0; c < k && taken < rows / 2; ++c) {
    std::vector<int64_t> nonzero;
    for (int64_t r = 0; r < n; ++r) {
      const float v = data[c * n + r];
      if (v != 0.0f && !std::isnan(v)) nonzero.push_back(r);
    }
    const auto count = static_cast<int64_t>(nonzero.size());
    if (count == 0 || count * rows >= kRareRows * n) continue;  // empty, or common enough to be sampled
    const auto order = torch::randperm(count, generator, torch::kLong);
    for (int64_t i = 0; i < std::min(count, kRareRows) && taken < rows / 2; ++i) {
      const auto row = static_cast<size_t>(nonzero[static_cast<size_t>(order[i].item<int64_t>())]);
      if (!chosen[row]) ++taken;
      chosen[row] = true;
    }
  }
  return chosen;
}

}  // namespace

torch::Tensor stratified_sample(const torch::Tensor& input, int64_t rows, uint64_t seed) {
  const auto values = input.to(torch::kFloat).contiguous();
  const int64_t n = values.size(1);
  torch::Tensor picked = values;
  if (n > rows) {
    auto generator = at::detail::createCPUGenerator(seed);
    auto chosen = reserved_rows(values, rows, generator);
    int64_t count = std::count(chosen.begin(), chosen.end(), true);
    const auto order = torch::randperm(n, generator, torch::kLong);
    const int64_t* o = order.data_ptr<int64_t>();
    for (int64_t i = 0; i < n && count < rows; ++i) {
      if (!chosen[static_cast<size_t>(o[i])]) chosen[static_cast<size_t>(o[i])] = true, ++count;
    }
    std::vector<int64_t> index;
    for (int64_t r = 0; r < n; ++r) {
      if (chosen[static_cast<size_t>(r)]) index.push_back(r);
    }
    picked = values.index_select(1, torch::tensor(index, torch::kLong));
  }
  const auto present = torch::isnan(picked).logical_not();
  const auto means = torch::where(present, picked, torch::zeros_like(picked)).sum(1, true) /
                     present.sum(1, true).clamp_min(1).to(picked.scalar_type());
  return torch::where(present, picked, means.expand_as(picked));
}

std::vector<std::string> unjudgeable_columns(const torch::Tensor& sample) {
  const auto sorted = std::get<0>(sample.to(torch::kFloat).sort(1)).contiguous();
  const int64_t k = sorted.size(0), m = sorted.size(1);
  const float* v = sorted.data_ptr<float>();
  std::vector<std::string> reasons(static_cast<size_t>(k));
  for (int64_t c = 0; c < k; ++c) {
    int64_t longest = 0;
    for (int64_t start = 0; start < m;) {
      int64_t end = start + 1;
      while (end < m && v[c * m + end] == v[c * m + start]) ++end;
      longest = std::max(longest, end - start);
      start = end;
    }
    const int64_t support = m - longest;
    if (support >= kMinSupport) continue;
    char reason[160];
    std::snprintf(reason, sizeof reason,
                  support == 0 ? "constant in the %lld-row sample"
                               : "only %lld of the sample rows differ from its most common value",
                  static_cast<long long>(support == 0 ? m : support));
    reasons[static_cast<size_t>(c)] = reason;
  }
  return reasons;
}

}  // namespace safetrain::data::descriptors
