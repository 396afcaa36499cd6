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

// Columns with gaps, interleaved by row so that one walk of a sorted column serves all of them: for row t,
// present[t * count + k] is 1 where gap column k has a value and z[t * count + k] its standardised rank
// (centred and scaled over its present rows; 0 at its gaps).
struct GapColumns {
  std::vector<int64_t> index, present_count;
  int64_t count = 0;
  std::vector<float> present, z;
};

GapColumns interleave(const RankedColumns& a, const std::vector<int64_t>& columns) {
  GapColumns g;
  const int64_t n = a.z.size(1);
  g.count = static_cast<int64_t>(columns.size());
  g.index = columns;
  g.present.assign(static_cast<size_t>(n * g.count), 0.0f);
  g.z.assign(static_cast<size_t>(n * g.count), 0.0f);
  for (int64_t k = 0; k < g.count; ++k) {
    const auto& rows = a.present[static_cast<size_t>(columns[static_cast<size_t>(k)])];
    g.present_count.push_back(rows.numel());
    const auto* r = rows.data_ptr<int64_t>();
    const float* z = a.z[columns[static_cast<size_t>(k)]].data_ptr<float>();
    for (int64_t t = 0; t < rows.numel(); ++t) g.present[static_cast<size_t>(r[t] * g.count + k)] = 1.0f;
    for (int64_t t = 0; t < n; ++t) g.z[static_cast<size_t>(t * g.count + k)] = z[t];
  }
  return g;
}

// A complete column in ascending order: its rows, and where each tie group ends.
struct SortedColumn {
  std::vector<uint32_t> rows;
  std::vector<uint8_t> group_ends;  // 1 at the last position of a group of equal values
  void assign(const RankScratch& sorted) {
    const size_t n = sorted.index.size();
    rows.assign(sorted.index.begin(), sorted.index.end());
    group_ends.resize(n);
    for (size_t t = 0; t + 1 < n; ++t) group_ends[t] = sorted.keys[t] != sorted.keys[t + 1];
    if (n > 0) group_ends[n - 1] = 1;
  }
};

// rho of a complete column with every gap column k over k's present rows, into rho[k]: the column is re-ranked
// on those rows by one walk of its sorted order (ties averaged), so a pair costs O(n), not a sort. Within a tie
// group every kept row gets the same rank, so the group adds (its rank - mean) x the sum of k's values there.
// Exact, in double; the inner loops run over the gap columns, side by side.
void walk_rho(const SortedColumn& column, const GapColumns& g, std::vector<double>& acc, double* rho) {
  const auto count = static_cast<size_t>(g.count);
  acc.assign(6 * count, 0.0);
  double *mean = acc.data(), *kept_before = mean + count, *dot = kept_before + count, *sum_sq = dot + count,
         *kept = sum_sq + count, *x_sum = kept + count;
  for (size_t k = 0; k < count; ++k) mean[k] = 0.5 * static_cast<double>(g.present_count[k] + 1);
  for (size_t t = 0; t < column.rows.size(); ++t) {
    const float* present = g.present.data() + column.rows[t] * count;
    const float* z = g.z.data() + column.rows[t] * count;
    for (size_t k = 0; k < count; ++k) {
      kept[k] += present[k];
      x_sum[k] += z[k];
    }
    if (!column.group_ends[t]) continue;
    for (size_t k = 0; k < count; ++k) {
      const double d = kept_before[k] + 0.5 * (kept[k] + 1.0) - mean[k];
      dot[k] += d * x_sum[k];
      sum_sq[k] += d * d * kept[k];
      kept_before[k] += kept[k];
      kept[k] = 0;
      x_sum[k] = 0;
    }
  }
  for (size_t k = 0; k < count; ++k) rho[k] = sum_sq[k] > 0 ? dot[k] / std::sqrt(sum_sq[k]) : 0.0;
}

// rho over the rows where both columns are present (both have gaps: rare, so re-ranked directly).
double both_gapped_rho(const RankedColumns& a, int64_t i, const RankedColumns& b, int64_t j, std::vector<uint8_t>& flags) {
  const auto& rows_a = a.present[static_cast<size_t>(i)];
  const auto& rows_b = b.present[static_cast<size_t>(j)];
  flags.assign(static_cast<size_t>(b.z.size(1)), 0);
  const auto* rb = rows_b.data_ptr<int64_t>();
  for (int64_t t = 0; t < rows_b.numel(); ++t) flags[static_cast<size_t>(rb[t])] = 1;
  const auto* ra = rows_a.data_ptr<int64_t>();
  const float* za = a.z[i].data_ptr<float>();
  const float* zb = b.z[j].data_ptr<float>();
  std::vector<float> pair;  // x values, then y values, of the rows where both are present
  for (int64_t t = 0; t < rows_a.numel(); ++t) {
    if (flags[static_cast<size_t>(ra[t])]) pair.push_back(za[ra[t]]);
  }
  const auto both = static_cast<int64_t>(pair.size());
  if (both < 2) return 0.0;
  for (int64_t t = 0; t < rows_a.numel(); ++t) {
    if (flags[static_cast<size_t>(ra[t])]) pair.push_back(zb[ra[t]]);
  }
  RankScratch scratch;
  std::vector<float> zx(static_cast<size_t>(both)), zy(zx.size());
  standardise_column(pair.data(), both, zx.data(), scratch);
  standardise_column(pair.data() + both, both, zy.data(), scratch);
  double dot = 0;
  for (size_t t = 0; t < zx.size(); ++t) dot += static_cast<double>(zx[t]) * zy[t];
  return dot;
}

}  // namespace

std::map<int64_t, std::vector<double>> pairwise_rows(const RankedColumns& a, const RankedColumns& b,
                                                     WorkingSet& working) {
  std::vector<int64_t> gapped;
  for (int64_t i = 0; i < a.size(); ++i) {
    if (a.has_missing(i) && a.present[static_cast<size_t>(i)].numel() >= 2) gapped.push_back(i);
  }
  std::map<int64_t, std::vector<double>> out;  // a gap column with fewer than 2 values: no evidence, rho 0
  for (int64_t i = 0; i < a.size(); ++i) {
    if (a.has_missing(i)) out.emplace(i, std::vector<double>(static_cast<size_t>(b.size()), 0.0));
  }
  const int64_t n = a.z.size(1);
  // Gap columns walked together: as many as a quarter of the budget holds, interleaved (8 bytes a cell).
  const auto per_walk = static_cast<size_t>(std::clamp<int64_t>(working.budget() / 4 / std::max<int64_t>(8 * n, 1), 1, 64));
  for (size_t start = 0; start < gapped.size(); start += per_walk) {
    const std::vector<int64_t> block(gapped.begin() + static_cast<long>(start),
                                     gapped.begin() + static_cast<long>(std::min(gapped.size(), start + per_walk)));
    Scratch counted(working, static_cast<int64_t>(block.size()) * n * 8 +
                                 threads() * (RankScratch::bytes_for(n) + n * 5 + static_cast<int64_t>(block.size()) * 8));
    const auto gaps = interleave(a, block);
    std::vector<double*> rows;  // out's rows in block order: the workers write disjoint cells, never the map
    for (const int64_t i : block) rows.push_back(out.at(i).data());
    const float* bz = b.z.data_ptr<float>();
    // Each complete column of b is sorted once and walked for the whole block.
    at::parallel_for(0, b.size(), 1, [&](int64_t first, int64_t last) {
      RankScratch scratch;
      SortedColumn sorted;
      std::vector<double> acc, rho(block.size());
      std::vector<uint8_t> flags;
      for (int64_t j = first; j < last; ++j) {
        if (b.has_missing(j)) {  // both have gaps: rare
          for (size_t k = 0; k < block.size(); ++k) rows[k][j] = both_gapped_rho(a, block[k], b, j, flags);
          continue;
        }
        sort_present(bz + j * n, n, scratch);
        sorted.assign(scratch);
        walk_rho(sorted, gaps, acc, rho.data());
        for (size_t k = 0; k < block.size(); ++k) rows[k][j] = rho[k];
      }
    });
  }
  return out;
}

}  // namespace safetrain::data::descriptors
