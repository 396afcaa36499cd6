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

// Up to kRareRows non-zero rows (among `candidates`) of each rare column, at most half the sample in all.
void reserve_rare_rows(const torch::Tensor& values, const std::vector<int64_t>& candidates, int64_t rows,
                       at::Generator& generator, std::vector<bool>& chosen) {
  const int64_t k = values.size(0), n = values.size(1), eligible = static_cast<int64_t>(candidates.size());
  const float* data = values.data_ptr<float>();
  int64_t taken = 0;
  for (int64_t c = 0; c < k && taken < rows / 2; ++c) {
    std::vector<int64_t> nonzero;
    for (const int64_t r : candidates) {
      const float v = data[c * n + r];
      if (v != 0.0f && !std::isnan(v)) nonzero.push_back(r);
    }
    const auto count = static_cast<int64_t>(nonzero.size());
    if (count == 0 || count * rows >= kRareRows * eligible) continue;  // empty, or common enough to be sampled
    const auto order = torch::randperm(count, generator, torch::kLong);
    for (int64_t i = 0; i < std::min(count, kRareRows) && taken < rows / 2; ++i) {
      const auto row = static_cast<size_t>(nonzero[static_cast<size_t>(order[i].item<int64_t>())]);
      if (!chosen[row]) ++taken;
      chosen[row] = true;
    }
  }
}

// `rows` of the `candidates` (all of them when there are no more): rare columns' rows first, then uniform.
std::vector<int64_t> sample_rows(const torch::Tensor& values, const std::vector<int64_t>& candidates, int64_t rows,
                                 uint64_t seed) {
  if (static_cast<int64_t>(candidates.size()) <= rows) return candidates;
  std::vector<bool> chosen(static_cast<size_t>(values.size(1)), false);
  auto generator = at::detail::createCPUGenerator(seed);
  reserve_rare_rows(values, candidates, rows, generator, chosen);
  int64_t count = 0;
  for (const int64_t r : candidates) count += chosen[static_cast<size_t>(r)] ? 1 : 0;
  const auto order = torch::randperm(static_cast<int64_t>(candidates.size()), generator, torch::kLong);
  const int64_t* o = order.data_ptr<int64_t>();
  for (int64_t i = 0; i < order.numel() && count < rows; ++i) {
    const auto r = static_cast<size_t>(candidates[static_cast<size_t>(o[i])]);
    if (!chosen[r]) chosen[r] = true, ++count;
  }
  std::vector<int64_t> index;
  for (const int64_t r : candidates) {
    if (chosen[static_cast<size_t>(r)]) index.push_back(r);
  }
  std::sort(index.begin(), index.end());
  return index;
}

// The sampled rows of `values`, missing cells filled with the column's sample mean.
torch::Tensor filled_rows(const torch::Tensor& values, const std::vector<int64_t>& index) {
  const auto picked = static_cast<int64_t>(index.size()) == values.size(1)
                          ? values
                          : values.index_select(1, torch::tensor(index, torch::kLong));
  const auto present = torch::isnan(picked).logical_not();
  const auto means = torch::where(present, picked, torch::zeros_like(picked)).sum(1, true) /
                     present.sum(1, true).clamp_min(1).to(picked.scalar_type());
  return torch::where(present, picked, means.expand_as(picked));
}

std::vector<int64_t> all_rows(int64_t n) {
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) rows[static_cast<size_t>(r)] = r;
  return rows;
}

}  // namespace

torch::Tensor stratified_sample(const torch::Tensor& input, int64_t rows, uint64_t seed) {
  const auto values = input.to(torch::kFloat).contiguous();
  return filled_rows(values, sample_rows(values, all_rows(values.size(1)), rows, seed));
}

RowSamples disjoint_samples(const torch::Tensor& input, int64_t rows, uint64_t seed) {
  const auto values = input.to(torch::kFloat).contiguous();
  const auto first = sample_rows(values, all_rows(values.size(1)), rows, seed);
  std::vector<int64_t> rest;
  size_t next = 0;
  for (int64_t r = 0; r < values.size(1); ++r) {
    if (next < first.size() && first[next] == r) ++next;
    else rest.push_back(r);
  }
  RowSamples out{filled_rows(values, first), torch::Tensor()};
  // A different seed: the second sample is drawn independently of the first, from the rows it left.
  if (!rest.empty()) out.holdout = filled_rows(values, sample_rows(values, rest, rows, seed ^ 0x9e3779b97f4a7c15ULL));
  return out;
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
