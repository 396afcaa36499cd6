// Columns turned into standardised ranks in place, and pandas' pairwise-complete Spearman for the
// few columns that have missing cells.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <map>

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

namespace {

// A column with gaps, seen from the other side of a pair: its present-row count, a flag per row and
// its standardised ranks (centred and scaled over its present rows; 0 at the gaps).
struct GapColumn {
  int64_t index = 0, present = 0;
  std::vector<uint8_t> missing;
  const float* z = nullptr;
};

// rho of complete column `sorted` (rows in ascending order of value, with their keys) with gap column `g`
// over g's present rows: b is re-ranked on those rows by one walk of its sorted order (ties averaged), so
// the pair costs O(n), not a sort. Exact, in double.
double walk_rho(const RankScratch& sorted, const GapColumn& g) {
  const double mean = 0.5 * static_cast<double>(g.present + 1);
  const auto n = static_cast<int64_t>(sorted.index.size());
  double kept_before = 0, dot = 0, sum_sq = 0;
  for (int64_t start = 0; start < n;) {
    int64_t end = start + 1, kept = g.missing[sorted.index[static_cast<size_t>(start)]] ? 0 : 1;
    for (; end < n && sorted.keys[static_cast<size_t>(end)] == sorted.keys[static_cast<size_t>(start)]; ++end) {
      kept += g.missing[sorted.index[static_cast<size_t>(end)]] ? 0 : 1;
    }
    const double d = kept_before + 0.5 * static_cast<double>(kept + 1) - mean;
    for (int64_t t = start; t < end && kept > 0; ++t) {
      const uint32_t row = sorted.index[static_cast<size_t>(t)];
      if (!g.missing[row]) dot += d * static_cast<double>(g.z[row]);
    }
    sum_sq += d * d * static_cast<double>(kept);
    kept_before += static_cast<double>(kept);
    start = end;
  }
  return sum_sq > 0 ? dot / std::sqrt(sum_sq) : 0.0;
}

// rho over the rows where both columns are present (both have gaps: rare, so re-ranked directly).
double both_gapped_rho(const RankedColumns& a, int64_t i, const RankedColumns& b, int64_t j) {
  const auto& rows = a.present[static_cast<size_t>(i)];
  auto both = rows.index_select(0, torch::nonzero(torch::isin(rows, b.present[static_cast<size_t>(j)])).squeeze(1));
  if (both.numel() < 2) return 0.0;
  auto pair = torch::stack({a.z[i].index_select(0, both), b.z[j].index_select(0, both)}).contiguous();
  RankScratch scratch;
  std::vector<float> zx(static_cast<size_t>(both.numel())), zy(zx.size());
  standardise_column(pair.data_ptr<float>(), both.numel(), zx.data(), scratch);
  standardise_column(pair.data_ptr<float>() + both.numel(), both.numel(), zy.data(), scratch);
  double dot = 0;
  for (size_t t = 0; t < zx.size(); ++t) dot += static_cast<double>(zx[t]) * zy[t];
  return dot;
}

}  // namespace

std::map<int64_t, std::vector<double>> pairwise_rows(const RankedColumns& a, const RankedColumns& b,
                                                     WorkingSet& working) {
  std::vector<GapColumn> gaps;
  const int64_t n = a.z.size(1);
  for (int64_t i = 0; i < a.size(); ++i) {
    if (!a.has_missing(i)) continue;
    GapColumn g{i, a.present[static_cast<size_t>(i)].numel(), std::vector<uint8_t>(static_cast<size_t>(n), 1),
                a.z[i].data_ptr<float>()};
    const auto* rows = a.present[static_cast<size_t>(i)].data_ptr<int64_t>();
    for (int64_t t = 0; t < g.present; ++t) g.missing[static_cast<size_t>(rows[t])] = 0;
    gaps.push_back(std::move(g));
  }
  std::map<int64_t, std::vector<double>> out;
  std::vector<double*> rows;  // out's rows in gaps' order: the workers write disjoint cells, never the map
  for (const auto& g : gaps) {
    rows.push_back(out.emplace(g.index, std::vector<double>(static_cast<size_t>(b.size()), 0.0)).first->second.data());
  }
  if (gaps.empty()) return out;
  Scratch counted(working, static_cast<int64_t>(gaps.size()) * n + threads() * RankScratch::bytes_for(n));
  const float* bz = b.z.data_ptr<float>();
  // Each complete column of b is sorted once and walked for every gap column of a.
  at::parallel_for(0, b.size(), 1, [&](int64_t first, int64_t last) {
    RankScratch sorted;
    for (int64_t j = first; j < last; ++j) {
      if (!b.has_missing(j)) sort_present(bz + j * n, n, sorted);
      for (size_t k = 0; k < gaps.size(); ++k) {
        const auto& g = gaps[k];
        if (g.present < 2) continue;  // no evidence of dependence: rho 0
        rows[k][j] = b.has_missing(j) ? both_gapped_rho(a, g.index, b, j) : walk_rho(sorted, g);
      }
    }
  });
  return out;
}

}  // namespace safetrain::data::descriptors
