// Pass 1: drops mostly-missing, (near-)constant and exactly duplicated columns.
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdio>
#include <algorithm>
#include <map>
#include <set>

#include "passes.hpp"

namespace safetrain::data::descriptors {

namespace {

std::vector<std::string> names_at(const std::vector<std::string>& names, const std::vector<int64_t>& columns) {
  std::vector<std::string> out;
  for (const int64_t c : columns) out.push_back(names[static_cast<size_t>(c)]);
  return out;
}

// Verifies hash-equal candidate pairs in one more streaming read of only the paired columns (a descriptor
// table has few such pairs, so Parquet reads a few column chunks, CSV converts a few cells a line); NaN
// equals NaN.
std::vector<bool> identical_pairs(const TableSource& source, const std::vector<std::pair<int64_t, int64_t>>& pairs) {
  std::vector<bool> same(pairs.size(), true);
  if (pairs.empty()) return same;
  std::vector<int64_t> paired;
  for (const auto& [a, b] : pairs) paired.insert(paired.end(), {a, b});
  std::sort(paired.begin(), paired.end());
  paired.erase(std::unique(paired.begin(), paired.end()), paired.end());
  const auto at = [&](int64_t column) { return std::lower_bound(paired.begin(), paired.end(), column) - paired.begin(); };
  std::vector<std::pair<int64_t, int64_t>> local;  // the pairs as positions in `paired`
  for (const auto& [a, b] : pairs) local.push_back({at(a), at(b)});
  const auto projected = source.with_columns(names_at(source.columns(), paired));
  while (auto batch = projected->next_batch()) {
    const auto values = batch->contiguous();
    const float* data = values.data_ptr<float>();
    const int64_t rows = values.size(0), width = values.size(1);
    for (size_t p = 0; p < local.size(); ++p) {
      for (int64_t r = 0; r < rows && same[p]; ++r) {
        const float x = data[r * width + local[p].first], y = data[r * width + local[p].second];
        same[p] = x == y || (std::isnan(x) && std::isnan(y));
      }
    }
  }
  return same;
}

// Exact duplicates: within each content-hash group (name order), a column equal to an earlier
// kept one goes; so of identical columns the first by name stays, whatever the column order.
void drop_duplicates(const TableSource& source, const std::map<uint64_t, std::vector<int64_t>>& groups,
                     std::set<int64_t>& dropped, std::vector<ColumnDecision>& decisions) {
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (const auto& [hash, members] : groups) {
    for (size_t j = 1; j < members.size(); ++j) {
      for (size_t i = 0; i < j; ++i) pairs.push_back({members[i], members[j]});
    }
  }
  const auto same = identical_pairs(source, pairs);
  const auto& names = source.columns();
  for (size_t p = 0; p < pairs.size(); ++p) {
    const auto [earlier, later] = pairs[p];
    if (!same[p] || dropped.count(earlier) || dropped.count(later)) continue;
    dropped.insert(later);
    decisions.push_back({names[static_cast<size_t>(later)], false, 1,
                         "exact duplicate of '" + names[static_cast<size_t>(earlier)] + "'",
                         names[static_cast<size_t>(earlier)], ""});
  }
}

}  // namespace

std::vector<int64_t> filter_columns(TableSource& source, const std::vector<ColumnStats>& stats,
                                    const std::vector<int64_t>& candidates, const std::set<int64_t>& protected_columns,
                                    const DescriptorOptions& o, std::vector<ColumnDecision>& decisions) {
  const auto& names = source.columns();
  std::vector<int64_t> by_name = candidates;
  std::sort(by_name.begin(), by_name.end(),
            [&](int64_t a, int64_t b) { return names[static_cast<size_t>(a)] < names[static_cast<size_t>(b)]; });
  std::vector<int64_t> survivors;
  std::map<uint64_t, std::vector<int64_t>> by_hash;  // unprotected survivors per content hash, name order
  for (const int64_t c : by_name) {
    const auto& s = stats[static_cast<size_t>(c)];
    const bool is_protected = protected_columns.count(c) > 0;
    char reason[160] = "";
    if (s.count == 0) {
      // Nothing to learn from (a protected all-missing column is refused before this, in pipeline.cpp).
      std::snprintf(reason, sizeof reason, "every cell is missing");
    } else if (!is_protected && s.missing_fraction() > o.max_missing_fraction) {
      std::snprintf(reason, sizeof reason, "missing %.1f%% > descriptors.max_missing_fraction %.1f%%",
                    100.0 * s.missing_fraction(), 100.0 * o.max_missing_fraction);
    } else if (!is_protected && s.variance() < o.min_variance) {
      std::snprintf(reason, sizeof reason, "variance %.3g < descriptors.min_variance %.3g%s", s.variance(),
                    o.min_variance, s.min == s.max ? " (constant)" : "");
    }
    if (reason[0] != '\0') {
      decisions.push_back({names[static_cast<size_t>(c)], false, 1, reason, "", ""});
      continue;
    }
    if (!is_protected) by_hash[s.hash].push_back(c);
    survivors.push_back(c);
  }
  std::set<int64_t> duplicates;
  drop_duplicates(source, by_hash, duplicates, decisions);
  std::vector<int64_t> out;
  for (const int64_t c : candidates) {  // input order
    if (std::find(survivors.begin(), survivors.end(), c) != survivors.end() && !duplicates.count(c)) out.push_back(c);
  }
  return out;
}

namespace {

// rows [b, k] (row-major) into columns [k, n] from column `at`, in 64 x 64 tiles so that both sides stay in
// cache (torch's copy_ of each transposed 8,192-row batch took 0.76 s for 100k rows x 1,566 columns on two
// threads), column tiles apart on the intra-op threads.
void transpose_into(const float* rows, int64_t b, int64_t k, float* columns, int64_t n, int64_t at) {
  constexpr int64_t kTile = 64;
  at::parallel_for(0, (k + kTile - 1) / kTile, 1, [&](int64_t first, int64_t last) {
    for (int64_t tile = first; tile < last; ++tile) {
      const int64_t c0 = tile * kTile, c1 = std::min(k, c0 + kTile);
      for (int64_t r0 = 0; r0 < b; r0 += kTile) {
        const int64_t r1 = std::min(b, r0 + kTile);
        for (int64_t c = c0; c < c1; ++c) {
          float* to = columns + c * n + at;
          for (int64_t r = r0; r < r1; ++r) to[r] = rows[r * k + c];
        }
      }
    }
  });
}

}  // namespace

torch::Tensor load_columns(const TableSource& source, const std::vector<int64_t>& columns, int64_t rows) {
  const auto k = static_cast<int64_t>(columns.size());
  const auto projected = source.with_columns(names_at(source.columns(), columns));  // reads only these
  if (rows >= 0) {  // one allocation, filled in place: no second copy of the table
    auto out = torch::empty({k, rows}, torch::kFloat);
    if (projected->reads_columns()) {  // Parquet: column by column, no row group staged
      const int64_t read = projected->read_columns(out.data_ptr<float>(), rows);
      return read == rows ? out : out.narrow(1, 0, read).contiguous();
    }
    const int64_t batch_rows = projected->batch_rows();
    std::vector<float> batch(static_cast<size_t>(batch_rows * k));
    int64_t at = 0;
    while (const int64_t b = projected->read_rows(batch.data(), batch_rows, nullptr)) {
      if (at + b > rows) throw std::runtime_error("descriptors: the input grew while it was read");
      transpose_into(batch.data(), b, k, out.data_ptr<float>(), rows, at);
      at += b;
    }
    return at == rows ? out : out.narrow(1, 0, at).contiguous();
  }
  std::vector<torch::Tensor> parts;
  while (auto batch = projected->next_batch()) parts.push_back(batch->t().contiguous());
  if (parts.empty()) return torch::zeros({k, 0});
  return torch::cat(parts, 1);
}

}  // namespace safetrain::data::descriptors
