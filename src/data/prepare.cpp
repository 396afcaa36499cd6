#include "safetrain/data/prepare.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/data/owned_rows.hpp"
#include "prepare_steps.hpp"

namespace safetrain::data {
namespace detail {

std::vector<int64_t> column_indices(const Table& table, const std::vector<std::string>& names, const char* key) {
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
  return indices;
}

std::vector<int64_t> to_vector(const torch::Tensor& rows) {
  const auto* p = rows.data_ptr<int64_t>();
  return {p, p + rows.numel()};
}

// Rows of `rows` whose cells in `cols` are all present, in their order.
torch::Tensor complete_rows(const torch::Tensor& values, const std::vector<int64_t>& cols, const torch::Tensor& rows) {
  const float* data = values.data_ptr<float>();
  const int64_t width = values.size(1);
  std::vector<int64_t> kept;
  for (const int64_t r : to_vector(rows)) {
    const bool missing = std::any_of(cols.begin(), cols.end(), [&](int64_t c) { return std::isnan(data[r * width + c]); });
    if (!missing) kept.push_back(r);
  }
  return torch::tensor(kept, torch::kLong);
}

// InputError naming the table, the column with the most missing cells in the split and the first such row
// (row_id, as in the predictions files). Counted cell by cell: no mask the size of the split.
void refuse_missing(const torch::Tensor& values, const std::vector<std::string>& names, const torch::Tensor& rows,
                    const std::string& what, const char* split, const std::string& source) {
  const auto counts = nan_counts(values);
  const auto worst_at = std::max_element(counts.begin(), counts.end());
  if (worst_at == counts.end() || *worst_at == 0) return;
  const auto worst = static_cast<int64_t>(worst_at - counts.begin());
  const int64_t count = *worst_at, width = values.size(1);
  const float* data = values.data_ptr<float>();
  const int64_t* ids = rows.data_ptr<int64_t>();
  int64_t first = std::numeric_limits<int64_t>::max();
  for (int64_t i = 0; i < values.size(0); ++i) {
    if (std::isnan(data[i * width + worst])) first = std::min(first, ids[i]);
  }
  std::ostringstream share;
  share.precision(2);
  share << 100.0 * static_cast<double>(count) / static_cast<double>(std::max<int64_t>(1, rows.size(0)));
  throw InputError(source + ": " + what + " column '" + names[static_cast<size_t>(worst)] + "' has " +
                   std::to_string(count) + " missing value(s) in " + std::to_string(rows.size(0)) + " " + split +
                   " rows (" + share.str() + "%), the first in row_id " + std::to_string(first) +
                   " (data row, from 0); set data.nan_policy to drop_rows or fill_mean" +
                   (what == "feature" ? ", or leave the column out of data.features" : ""));
}

// Per-feature means of the present cells of the training rows (NaN-free), in float32 like the features.
std::vector<float> present_means(const torch::Tensor& values, const std::vector<int64_t>& cols, const torch::Tensor& rows) {
  const float* data = values.data_ptr<float>();
  const int64_t width = values.size(1);
  std::vector<double> sums(cols.size());
  std::vector<int64_t> counts(cols.size());
  for (const int64_t r : to_vector(rows)) {
    for (size_t j = 0; j < cols.size(); ++j) {
      const float v = data[r * width + cols[j]];
      if (std::isnan(v)) continue;
      sums[j] += v;
      ++counts[j];
    }
  }
  std::vector<float> means(cols.size());
  for (size_t j = 0; j < cols.size(); ++j) means[j] = static_cast<float>(sums[j] / std::max<int64_t>(1, counts[j]));
  return means;
}

void fill_missing(torch::Tensor& x, const std::vector<float>& means) {
  float* data = x.data_ptr<float>();
  const auto width = static_cast<int64_t>(means.size());
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (std::isnan(data[i])) data[i] = means[static_cast<size_t>(i % width)];
  }
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

void require_training_rows(int64_t rows) {
  if (rows == 0) throw InputError("data: no training rows left (check data.train_fraction and missing values)");
}

}  // namespace detail

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

void check_split_fractions(const SplitOptions& o) {
  for (const auto& [key, value] : {std::pair<const char*, double>{"data.train_fraction", o.train_fraction},
                                   {"data.val_fraction", o.val_fraction}, {"data.test_fraction", o.test_fraction}}) {
    if (!(value >= 0.0 && value <= 1.0)) throw InputError(std::string(key) + ": must be in [0, 1], got " + std::to_string(value));
  }
  if (o.train_fraction + o.val_fraction + o.test_fraction > 1.0 + 1e-9) {
    throw InputError("data.train_fraction + val_fraction + test_fraction: must not exceed 1, got " +
                     std::to_string(o.train_fraction + o.val_fraction + o.test_fraction));
  }
}

SplitIndices split_indices(int64_t rows, const SplitOptions& o) {
  check_split_fractions(o);
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

namespace {

// The splits from the table, which is consumed: targets are gathered (a few columns), then the table's own buffer
// is reordered in place to the train|val|test feature rows and cut from the end, so the table is never copied.
void carve_splits(torch::Tensor values, const std::vector<int64_t>& fcols, const std::vector<int64_t>& tcols,
                  const SplitIndices& split, PreparedData& out) {
  const std::pair<SplitTensors*, const torch::Tensor*> parts[] = {
      {&out.train, &split.train}, {&out.val, &split.val}, {&out.test, &split.test}};
  std::vector<int64_t> order;
  for (const auto& [part, rows] : parts) {
    const auto ids = detail::to_vector(*rows);
    part->y = gather_rows_columns(values, ids, tcols);
    part->row_ids = *rows;  // owned (split_indices clones); shared only until prepare returns
    order.insert(order.end(), ids.begin(), ids.end());
  }
  const auto width = static_cast<int64_t>(fcols.size());
  const int64_t n_train = split.train.size(0), n_val = split.val.size(0), n_used = static_cast<int64_t>(order.size());
  reorder_rows_in_place(values, std::move(order), fcols);
  auto x = keep_leading(std::move(values), {n_used, width});
  out.test.x = x.narrow(0, n_train + n_val, n_used - n_train - n_val).clone();
  x = keep_leading(std::move(x), {n_train + n_val, width});
  out.val.x = x.narrow(0, n_train, n_val).clone();
  out.train.x = keep_leading(std::move(x), {n_train, width});
}

// data.nan_policy drop_rows or fill_mean: rows missing a value the policy cannot fill leave the split, and with
// fill_mean the training rows' means of the features come back (to fill the features' missing cells).
std::vector<float> drop_incomplete_rows(const torch::Tensor& values, const std::vector<int64_t>& fcols,
                                        const std::vector<int64_t>& tcols, NanPolicy policy, SplitIndices& split) {
  std::vector<float> fill;
  if (policy == NanPolicy::error) return fill;
  if (policy == NanPolicy::fill_mean) fill = detail::present_means(values, fcols, split.train);
  // Targets cannot be invented: rows missing one are dropped under both policies (and features under drop_rows).
  auto required = tcols;
  if (policy == NanPolicy::drop_rows) required.insert(required.end(), fcols.begin(), fcols.end());
  const int64_t before = split.train.size(0) + split.val.size(0) + split.test.size(0);
  split = {detail::complete_rows(values, required, split.train), detail::complete_rows(values, required, split.val),
           detail::complete_rows(values, required, split.test)};
  const int64_t dropped = before - split.train.size(0) - split.val.size(0) - split.test.size(0);
  if (dropped > 0) log::info("data: dropped ", dropped, " rows with missing values (data.nan_policy)");
  return fill;
}

}  // namespace

PreparedData prepare(Table table, const ColumnSelection& selection, const SplitOptions& o) {
  PreparedData out;
  out.target_names = resolve_targets(table, selection);
  if (selection.features.empty()) {
    out.feature_names = detail::default_features(table, out.target_names, selection);
  } else {
    out.feature_names = selection.features;
  }
  if (out.feature_names.empty()) throw InputError("data.features: no feature columns left in " + table.source);
  const auto fcols = detail::column_indices(table, out.feature_names, "data.features");
  const auto tcols = detail::column_indices(table, out.target_names, "data.targets");
  // A table the caller still holds is copied once; the trainer hands over its own and nothing is copied.
  if (!uniquely_owned(table.values) || !table.values.is_contiguous() || table.values.storage_offset() != 0) {
    table.values = table.values.clone(at::MemoryFormat::Contiguous);
  }
  auto split = split_table(table, o);
  if (!o.split_column.empty() || !o.group_column.empty()) {
    log::info("data: own split by ", o.split_column.empty() ? "data.group_column '" + o.group_column + "'"
                                                           : "data.split_column '" + o.split_column + "'",
              ": train ", split.train.size(0), ", val ", split.val.size(0), ", test ", split.test.size(0), " rows");
  }
  const auto fill = drop_incomplete_rows(table.values, fcols, tcols, o.nan_policy, split);
  carve_splits(std::move(table.values), fcols, tcols, split, out);
  const std::pair<SplitTensors*, const char*> named[] = {
      {&out.train, "training"}, {&out.val, "validation"}, {&out.test, "test"}};
  for (const auto& [part, name] : named) {
    if (o.nan_policy == NanPolicy::fill_mean) detail::fill_missing(part->x, fill);
    if (o.nan_policy != NanPolicy::error) continue;
    // Validation and test rows too: one NaN there made every val_loss NaN and no best checkpoint, with exit 0.
    detail::refuse_missing(part->x, out.feature_names, part->row_ids, "feature", name, table.source);
    detail::refuse_missing(part->y, out.target_names, part->row_ids, "target", name, table.source);
  }
  detail::require_training_rows(out.train.size());
  detail::warn_constant_targets(out.train.y, out.target_names);
  detail::warn_constant_features(out.train.x, out.feature_names);
  if (o.standardize_targets) detail::check_target_outliers(out.train.y, out.target_names, out.train.row_ids, table.source);

  out.ids = std::move(table.ids);
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
