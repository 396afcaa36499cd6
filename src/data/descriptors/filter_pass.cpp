// Pass 1: drops mostly-missing, (near-)constant and exactly duplicated columns.
#include <cmath>
#include <cstdio>
#include <map>

#include "passes.hpp"

namespace safetrain::data::descriptors {

namespace {

// Verifies hash-equal candidates by streaming the data once more; NaN equals NaN.
bool columns_identical(RowBatchSource& source, int64_t a, int64_t b) {
  source.rewind();
  while (auto batch = source.next_batch()) {
    const auto x = batch->select(1, a), y = batch->select(1, b);
    const auto same = (x == y) | (torch::isnan(x) & torch::isnan(y));
    if (!same.all().item<bool>()) return false;
  }
  return true;
}

}  // namespace

std::vector<int64_t> filter_columns(RowBatchSource& source, const std::vector<ColumnStats>& stats,
                                    const std::vector<int64_t>& candidates, const std::set<int64_t>& protected_columns,
                                    const DescriptorOptions& o, std::vector<ColumnDecision>& decisions) {
  const auto& names = source.columns();
  std::vector<int64_t> survivors;
  std::map<uint64_t, std::vector<int64_t>> by_hash;  // first kept column per content hash
  for (const int64_t c : candidates) {
    const auto& s = stats[static_cast<size_t>(c)];
    const bool is_protected = protected_columns.count(c) > 0;
    char reason[160] = "";
    std::string partner;
    if (s.count == 0) {
      // Nothing to learn from (a protected all-missing column is refused before this, in pipeline.cpp).
      std::snprintf(reason, sizeof reason, "every cell is missing");
    } else if (!is_protected && s.missing_fraction() > o.max_missing_fraction) {
      std::snprintf(reason, sizeof reason, "missing %.1f%% > descriptors.max_missing_fraction %.1f%%",
                    100.0 * s.missing_fraction(), 100.0 * o.max_missing_fraction);
    } else if (!is_protected && s.variance() < o.min_variance) {
      std::snprintf(reason, sizeof reason, "variance %.3g < descriptors.min_variance %.3g%s", s.variance(),
                    o.min_variance, s.min == s.max ? " (constant)" : "");
    } else if (!is_protected) {
      for (const int64_t earlier : by_hash[s.hash]) {
        if (columns_identical(source, earlier, c)) {
          std::snprintf(reason, sizeof reason, "exact duplicate of '%s'", names[static_cast<size_t>(earlier)].c_str());
          partner = names[static_cast<size_t>(earlier)];
          break;
        }
      }
    }
    if (reason[0] != '\0') {
      decisions.push_back({names[static_cast<size_t>(c)], false, 1, reason, partner});
      continue;
    }
    by_hash[s.hash].push_back(c);
    survivors.push_back(c);
  }
  return survivors;
}

torch::Tensor load_columns(RowBatchSource& source, const std::vector<int64_t>& columns) {
  const auto index = torch::tensor(columns, torch::kLong);
  std::vector<torch::Tensor> parts;
  source.rewind();
  while (auto batch = source.next_batch()) parts.push_back(batch->index_select(1, index).t().contiguous());
  if (parts.empty()) return torch::zeros({static_cast<int64_t>(columns.size()), 0});
  return torch::cat(parts, 1);
}

}  // namespace safetrain::data::descriptors
