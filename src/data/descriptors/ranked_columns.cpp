// Columns turned into standardised ranks in place, and pandas' pairwise-complete Spearman for the
// few columns that have missing cells.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "passes.hpp"

namespace safetrain::data::descriptors {
namespace {

// Ranks of `n` values into `out`, then centred over the present cells (missing ones 0) and scaled
// to unit norm; a column without variance becomes all zeros (rho 0 with everything).
void standardise_column(const float* values, int64_t n, float* out, RankScratch& scratch) {
  const int64_t present = rank_column(values, n, out, scratch);
  const double mean = 0.5 * static_cast<double>(present + 1);
  double sum_sq = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::isnan(values[i]) ? 0.0 : out[i] - mean;
    sum_sq += d * d;
  }
  const double scale = sum_sq > 0 ? 1.0 / std::sqrt(sum_sq) : 0.0;
  for (int64_t i = 0; i < n; ++i) out[i] = std::isnan(values[i]) ? 0.0f : static_cast<float>((out[i] - mean) * scale);
}

int64_t threads() { return std::max<int64_t>(1, at::get_num_threads()); }

}  // namespace

RankedColumns rank_in_place(torch::Tensor values, WorkingSet& working) {
  values = values.to(torch::kFloat).contiguous();
  const int64_t k = values.size(0), n = values.size(1);
  RankedColumns r;
  r.present.resize(static_cast<size_t>(k));
  const float* raw = values.data_ptr<float>();
  for (int64_t i = 0; i < k; ++i) {  // a scan, not a k x n mask: only columns with gaps get index lists
    const float* column = raw + i * n;
    if (std::none_of(column, column + n, [](float v) { return std::isnan(v); })) continue;
    std::vector<int64_t> rows;
    for (int64_t t = 0; t < n; ++t) {
      if (!std::isnan(column[t])) rows.push_back(t);
    }
    r.present[static_cast<size_t>(i)] = torch::tensor(rows, torch::kLong);
  }
  // Per thread: the rank scratch and one column's ranks, written back over the column.
  Scratch counted(working, threads() * (RankScratch::bytes_for(n) + n * 4));
  float* data = values.data_ptr<float>();
  at::parallel_for(0, k, 1, [&](int64_t first, int64_t last) {
    RankScratch scratch;
    std::vector<float> column(static_cast<size_t>(n));
    for (int64_t i = first; i < last; ++i) {
      standardise_column(data + i * n, n, column.data(), scratch);
      std::copy(column.begin(), column.end(), data + i * n);
    }
  });
  r.z = values;
  return r;
}

std::vector<double> pairwise_rho(const RankedColumns& a, int64_t i, const RankedColumns& b, WorkingSet& working) {
  const int64_t kb = b.size();
  std::vector<double> out(static_cast<size_t>(kb), 0.0);
  const auto& rows = a.present[static_cast<size_t>(i)];
  const int64_t p = rows.numel();
  if (p < 2) return out;  // no evidence of dependence
  // Ranks are monotone in the values, so re-ranking b's ranks on these rows equals re-ranking its values.
  const auto x = a.z[i].index_select(0, rows).contiguous();  // already centred and scaled over these rows
  std::vector<int64_t> complete, gapped;
  for (int64_t j = 0; j < kb; ++j) (b.has_missing(j) ? gapped : complete).push_back(j);
  const int64_t per_column = p * 8;
  const int64_t block = std::clamp<int64_t>(working.budget() / 4 / std::max<int64_t>(per_column, 1), 1, 4096);
  for (size_t start = 0; start < complete.size(); start += static_cast<size_t>(block)) {
    const size_t count = std::min(complete.size() - start, static_cast<size_t>(block));
    const auto columns = torch::tensor(std::vector<int64_t>(complete.begin() + static_cast<long>(start),
                                                            complete.begin() + static_cast<long>(start + count)));
    Scratch counted(working, static_cast<int64_t>(count) * per_column + threads() * RankScratch::bytes_for(p));
    auto gathered = b.z.index_select(0, columns).index_select(1, rows).contiguous();
    float* g = gathered.data_ptr<float>();
    at::parallel_for(0, static_cast<int64_t>(count), 1, [&](int64_t first, int64_t last) {
      RankScratch scratch;
      std::vector<float> column(static_cast<size_t>(p));
      for (int64_t c = first; c < last; ++c) {
        standardise_column(g + c * p, p, column.data(), scratch);
        std::copy(column.begin(), column.end(), g + c * p);
      }
    });
    const auto rho = torch::mv(gathered, x).to(torch::kDouble).contiguous();
    const double* value = rho.data_ptr<double>();
    for (size_t c = 0; c < count; ++c) out[static_cast<size_t>(complete[start + c])] = value[c];
  }
  for (const int64_t j : gapped) {  // both have gaps: the rows where both are present
    auto both = rows.index_select(0, torch::nonzero(torch::isin(rows, b.present[static_cast<size_t>(j)])).squeeze(1));
    if (both.numel() < 2) continue;
    auto pair = torch::stack({a.z[i].index_select(0, both), b.z[j].index_select(0, both)}).contiguous();
    RankScratch scratch;
    std::vector<float> zx(static_cast<size_t>(both.numel())), zy(zx.size());
    standardise_column(pair.data_ptr<float>(), both.numel(), zx.data(), scratch);
    standardise_column(pair.data_ptr<float>() + both.numel(), both.numel(), zy.data(), scratch);
    double dot = 0;
    for (size_t t = 0; t < zx.size(); ++t) dot += static_cast<double>(zx[t]) * zy[t];
    out[static_cast<size_t>(j)] = dot;
  }
  return out;
}

}  // namespace safetrain::data::descriptors
