#include "safetrain/data/prepare.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/text.hpp"

namespace safetrain::data {
namespace {

torch::Tensor column_indices(const Table& table, const std::vector<std::string>& names, const char* key) {
  std::vector<int64_t> indices;
  for (const auto& name : names) {
    const int64_t i = column_index(table, name);
    if (i < 0) {
      const std::string suggestion = text::closest_match(name, table.columns);
      throw InputError(std::string(key) + ": column '" + name + "' is not in " + table.source +
                       (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
    }
    indices.push_back(i);
  }
  return torch::tensor(indices, torch::kLong);
}

SplitTensors gather(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& rows) {
  // index_select copies: every split owns its storage, none pins the source table.
  return {x.index_select(0, rows).contiguous(), y.index_select(0, rows).contiguous(), rows.clone()};
}

// Rows of `split` whose features and targets are all present.
torch::Tensor complete_rows(const torch::Tensor& x, const torch::Tensor& y, const torch::Tensor& rows) {
  const auto missing = torch::isnan(x.index_select(0, rows)).any(1) | torch::isnan(y.index_select(0, rows)).any(1);
  return rows.masked_select(missing.logical_not());
}

// InputError naming the table, the column with the most missing cells in `rows` of the split and
// the first such row (row_id, as in the predictions files).
void refuse_missing(const torch::Tensor& values, const std::vector<std::string>& names, const torch::Tensor& rows,
                    const std::string& what, const char* split, const std::string& source) {
  const auto missing = torch::isnan(values);
  const auto counts = missing.sum(0);
  const int64_t worst = counts.argmax().item<int64_t>();
  const int64_t count = counts[worst].item<int64_t>();
  if (count == 0) return;
  const int64_t first = rows.masked_select(missing.select(1, worst)).min().item<int64_t>();
  std::ostringstream share;
  share.precision(2);
  share << 100.0 * static_cast<double>(count) / static_cast<double>(std::max<int64_t>(1, rows.size(0)));
  throw InputError(source + ": " + what + " column '" + names[static_cast<size_t>(worst)] + "' has " +
                   std::to_string(count) + " missing value(s) in " + std::to_string(rows.size(0)) + " " + split +
                   " rows (" + share.str() + "%), the first in row_id " + std::to_string(first) +
                   " (data row, from 0); set data.nan_policy to drop_rows or fill_mean" +
                   (what == "feature" ? ", or leave the column out of data.features" : ""));
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return !prefix.empty() && text.rfind(prefix, 0) == 0;
}

// Every column that is not a target and does not look like one (see kTargetLikePrefix).
std::vector<std::string> default_features(const Table& table, const std::vector<std::string>& targets,
                                          const ColumnSelection& selection) {
  std::vector<std::string> features, excluded;
  for (const auto& c : table.columns) {
    if (std::find(targets.begin(), targets.end(), c) != targets.end()) continue;
    if (starts_with(c, kTargetLikePrefix) || starts_with(c, selection.target_prefix)) {
      excluded.push_back(c);
      continue;
    }
    features.push_back(c);
  }
  if (!excluded.empty()) {
    std::string list;
    for (const auto& c : excluded) list += (list.empty() ? "" : ", ") + c;
    log::info("data: not using target-like columns as features: ", list, " (list them in data.features to use them)");
  }
  return features;
}

// A constant feature carries nothing (the descriptor stage drops it when enabled); it is harmless for the
// scaler, so one warning naming the first few is enough.
void warn_constant_features(const torch::Tensor& train_x, const std::vector<std::string>& names) {
  if (train_x.size(0) < 2) return;
  const auto constant = (std::get<0>(train_x.min(0)) == std::get<0>(train_x.max(0))).nonzero().flatten();
  if (constant.numel() == 0) return;
  std::string list;
  for (int64_t i = 0; i < constant.numel() && i < 5; ++i) {
    list += (i ? ", '" : "'") + names[static_cast<size_t>(constant[i].item<int64_t>())] + "'";
  }
  if (constant.numel() > 5) list += ", ...";
  log::warn("data: ", constant.numel(), " feature(s) constant in all ", train_x.size(0), " training rows (", list,
            "): they carry no information; descriptors.enabled: true drops them");
}

// A constant target has nothing to learn (its standard deviation is 0): legal, but usually a wrong column.
void warn_constant_targets(const torch::Tensor& train_y, const std::vector<std::string>& names) {
  if (train_y.size(0) < 2) return;
  const auto low = std::get<0>(train_y.min(0)), high = std::get<0>(train_y.max(0));
  for (size_t t = 0; t < names.size(); ++t) {
    const auto i = static_cast<int64_t>(t);
    if (low[i].item<float>() != high[i].item<float>()) continue;
    log::warn("data: target '", names[t], "' is constant (", low[i].item<float>(), ") in all ", train_y.size(0),
              " training rows: the model can only learn that value; check data.targets");
  }
}

}  // namespace

Standardizer Standardizer::fit(const torch::Tensor& x) {
  auto std = x.std(0, /*unbiased=*/true);
  std = torch::where(std > 1e-8, std, torch::ones_like(std));
  return {x.mean(0), std};
}

Standardizer Standardizer::identity(int64_t dims) { return {torch::zeros({dims}), torch::ones({dims})}; }
torch::Tensor Standardizer::apply(const torch::Tensor& x) const { return (x - mean) / std; }
torch::Tensor Standardizer::invert(const torch::Tensor& x) const { return x * std + mean; }

// Rows per split by the largest-remainder method: the counts add up to round(sum of fractions x rows), so with
// fractions summing to 1 every row lands in exactly one split (rounding each on its own lost rows:
// 4993 -> 3994/499/499).
std::array<int64_t, 3> split_counts(int64_t rows, const SplitOptions& o) {
  const std::array<double, 3> quotas = {o.train_fraction * static_cast<double>(rows),
                                        o.val_fraction * static_cast<double>(rows),
                                        o.test_fraction * static_cast<double>(rows)};
  const auto total = std::min(rows, static_cast<int64_t>(std::llround(quotas[0] + quotas[1] + quotas[2])));
  std::array<int64_t, 3> counts{};
  int64_t assigned = 0;
  for (size_t i = 0; i < 3; ++i) assigned += counts[i] = static_cast<int64_t>(std::floor(quotas[i]));
  std::array<size_t, 3> by_remainder = {0, 1, 2};
  std::stable_sort(by_remainder.begin(), by_remainder.end(), [&](size_t a, size_t b) {
    return quotas[a] - std::floor(quotas[a]) > quotas[b] - std::floor(quotas[b]);
  });
  for (size_t k = 0; assigned < total; k = (k + 1) % 3, ++assigned) ++counts[by_remainder[k]];
  return counts;
}

SplitIndices split_indices(int64_t rows, const SplitOptions& o) {
  for (const auto& [key, value] : {std::pair<const char*, double>{"data.train_fraction", o.train_fraction},
                                   {"data.val_fraction", o.val_fraction}, {"data.test_fraction", o.test_fraction}}) {
    if (!(value >= 0.0 && value <= 1.0)) throw InputError(std::string(key) + ": must be in [0, 1], got " + std::to_string(value));
  }
  if (o.train_fraction + o.val_fraction + o.test_fraction > 1.0 + 1e-9) {
    throw InputError("data.train_fraction + val_fraction + test_fraction: must not exceed 1, got " +
                     std::to_string(o.train_fraction + o.val_fraction + o.test_fraction));
  }
  auto generator = at::detail::createCPUGenerator(o.seed);
  const auto order = torch::randperm(rows, generator, torch::kLong);
  const auto counts = split_counts(rows, o);
  const int64_t n_train = counts[0], n_val = counts[1], n_test = counts[2];
  return {order.narrow(0, 0, n_train).clone(), order.narrow(0, n_train, n_val).clone(),
          order.narrow(0, n_train + n_val, n_test).clone()};
}

std::vector<std::string> resolve_targets(const Table& table, const ColumnSelection& selection) {
  if (!selection.targets.empty()) return selection.targets;
  std::vector<std::string> names;
  for (const auto& c : table.columns) {
    if (!selection.target_prefix.empty() && c.rfind(selection.target_prefix, 0) == 0) names.push_back(c);
  }
  if (names.empty()) {
    throw InputError("data.targets: no column of " + table.source + " starts with '" + selection.target_prefix + "'");
  }
  return names;
}

PreparedData prepare(const Table& table, const ColumnSelection& selection, const SplitOptions& o) {
  PreparedData out;
  out.target_names = resolve_targets(table, selection);
  if (selection.features.empty()) {
    out.feature_names = default_features(table, out.target_names, selection);
  } else {
    out.feature_names = selection.features;
  }
  if (out.feature_names.empty()) throw InputError("data.features: no feature columns left in " + table.source);
  auto x = table.values.index_select(1, column_indices(table, out.feature_names, "data.features"));
  auto y = table.values.index_select(1, column_indices(table, out.target_names, "data.targets"));
  auto split = split_indices(table.values.size(0), o);

  if (o.nan_policy == NanPolicy::error) {
    // Validation and test rows too: one NaN there made every val_loss NaN and no best checkpoint, with exit 0.
    const std::pair<const torch::Tensor*, const char*> splits[] = {
        {&split.train, "training"}, {&split.val, "validation"}, {&split.test, "test"}};
    for (const auto& [rows, name] : splits) {
      refuse_missing(x.index_select(0, *rows), out.feature_names, *rows, "feature", name, table.source);
      refuse_missing(y.index_select(0, *rows), out.target_names, *rows, "target", name, table.source);
    }
  } else {
    if (o.nan_policy == NanPolicy::fill_mean) {
      const auto train_x = x.index_select(0, split.train);
      const auto present = torch::isnan(train_x).logical_not();
      const auto means = torch::where(present, train_x, torch::zeros_like(train_x)).sum(0) /
                         present.sum(0).clamp_min(1).to(torch::kFloat);
      x = torch::where(torch::isnan(x), means.expand_as(x), x);
    }
    // Targets cannot be invented: rows missing one are dropped under both policies (and features under drop_rows).
    const int64_t before = split.train.size(0) + split.val.size(0) + split.test.size(0);
    split = {complete_rows(x, y, split.train), complete_rows(x, y, split.val), complete_rows(x, y, split.test)};
    const int64_t dropped = before - split.train.size(0) - split.val.size(0) - split.test.size(0);
    if (dropped > 0) log::info("data: dropped ", dropped, " rows with missing values (data.nan_policy)");
  }
  out.train = gather(x, y, split.train);
  out.val = gather(x, y, split.val);
  out.test = gather(x, y, split.test);
  x = torch::Tensor();  // the splits own copies: drop the full-width selection before scaling
  y = torch::Tensor();
  if (out.train.size() == 0) throw InputError("data: no training rows left (check data.train_fraction and missing values)");
  warn_constant_targets(out.train.y, out.target_names);
  warn_constant_features(out.train.x, out.feature_names);

  out.ids = table.ids;
  out.feature_scaler = Standardizer::fit(out.train.x);
  out.target_scaler = o.standardize_targets ? Standardizer::fit(out.train.y)
                                            : Standardizer::identity(static_cast<int64_t>(out.target_names.size()));
  // In place: scaling must not hold a second copy of every split at once.
  for (auto* s : {&out.train, &out.val, &out.test}) {
    s->x.sub_(out.feature_scaler.mean).div_(out.feature_scaler.std);
    s->y.sub_(out.target_scaler.mean).div_(out.target_scaler.std);
  }
  return out;
}

}  // namespace safetrain::data
