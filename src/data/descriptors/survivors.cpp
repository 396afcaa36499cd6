// Loading the pass-1 survivors for passes 2-4: one float32 copy of their rows, ranked in place.
#include "survivors.hpp"

#include <algorithm>
#include <cmath>

#include "safetrain/common/error.hpp"

namespace safetrain::data::descriptors {
namespace {

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<int64_t> indices_of(const std::vector<std::string>& all, const std::vector<std::string>& names) {
  std::vector<int64_t> out;
  for (const auto& n : names) out.push_back(std::find(all.begin(), all.end(), n) - all.begin());
  return out;
}

// Missing fraction and variance of the present cells per row of values [k, n], without a k x n temporary.
void column_moments(const torch::Tensor& values, Informativeness& info) {
  const int64_t k = values.size(0), n = values.size(1);
  const auto c = values.contiguous();
  const float* data = c.data_ptr<float>();
  info.missing_fraction.assign(static_cast<size_t>(k), 0.0);
  info.variance.assign(static_cast<size_t>(k), 0.0);
  for (int64_t i = 0; i < k; ++i) {
    int64_t count = 0;
    double mean = 0, m2 = 0;
    for (int64_t t = 0; t < n; ++t) {
      const float v = data[i * n + t];
      if (std::isnan(v)) continue;
      const double delta = v - mean;
      mean += delta / static_cast<double>(++count);
      m2 += delta * (v - mean);
    }
    info.missing_fraction[static_cast<size_t>(i)] = n > 0 ? 1.0 - static_cast<double>(count) / static_cast<double>(n) : 0.0;
    info.variance[static_cast<size_t>(i)] = count > 1 ? m2 / static_cast<double>(count - 1) : 0.0;
  }
}

// The same figures from pass 0's statistics of the columns at `indices` (missing fraction as column_moments
// computes it; variance streamed by Welford over the whole column).
void stats_moments(const std::vector<ColumnStats>& stats, const std::vector<int64_t>& indices, Informativeness& info) {
  for (const int64_t c : indices) {
    const auto& column = stats[static_cast<size_t>(c)];
    const int64_t n = column.count + column.missing;
    info.missing_fraction.push_back(n > 0 ? 1.0 - static_cast<double>(column.count) / static_cast<double>(n) : 0.0);
    info.variance.push_back(column.variance());
  }
}

}  // namespace

int64_t Survivors::held_bytes() const {
  return (ranked.z.defined() ? ranked.z.nbytes() : 0) + (sample.defined() ? sample.nbytes() : 0) +
         (holdout.defined() ? holdout.nbytes() : 0);
}

Survivors load_survivors(TableSource& source, std::vector<std::string> kept, const DescriptorOptions& o,
                         const SurvivorSetup& setup, WorkingSet& working) {
  std::sort(kept.begin(), kept.end());
  Survivors s;
  s.names = kept;
  s.info.names = kept;
  const auto indices = indices_of(source.columns(), kept);
  // One read for survivors and targets; the survivors stay a view (contiguous rows) of that tensor.
  auto wanted = indices;
  wanted.insert(wanted.end(), setup.target_columns->begin(), setup.target_columns->end());
  auto values = load_columns(source, wanted, setup.rows);
  torch::Tensor targets;
  const auto k = static_cast<int64_t>(indices.size());
  if (!setup.target_columns->empty()) targets = values.narrow(0, k, values.size(0) - k).clone();
  values = values.narrow(0, 0, k);
  if (setup.stats) {  // pass 0's figures: what a fresh run sees, without another look at every cell
    stats_moments(*setup.stats, indices, s.info);
  } else {
    column_moments(values, s.info);
  }
  for (const int64_t c : indices) s.is_protected.push_back(setup.protected_columns->count(c) > 0);
  if (setup.policy == NanPolicy::drop_rows) {
    const auto all = targets.defined() ? torch::cat({values, targets}, 0) : values;
    const auto complete = torch::nonzero(torch::isnan(all).any(0).logical_not()).squeeze(1);
    if (complete.numel() < 2) {
      throw InputError("descriptors.nan_policy drop_rows: fewer than 2 rows have every surviving column present");
    }
    values = values.index_select(1, complete);
    if (targets.defined()) targets = targets.index_select(1, complete);
  }
  if (setup.need_sample) {
    auto samples = disjoint_samples(values, o.hsic_sample_rows, o.seed);
    s.sample = std::move(samples.sample);
    s.holdout = std::move(samples.holdout);
  }
  s.ranked = rank_in_place(std::move(values), working);
  if (setup.policy == NanPolicy::fill_mean) {
    for (auto& p : s.ranked.present) p = torch::Tensor();
  }
  s.info.target_rho.assign(kept.size(), 0.0);
  if (targets.defined()) {
    auto ranked_targets = rank_in_place(std::move(targets), working);
    if (setup.policy == NanPolicy::fill_mean) {
      for (auto& p : ranked_targets.present) p = torch::Tensor();
    }
    s.target_rho = ranked_cross(s.ranked, ranked_targets, working);
    s.info.target_rho = to_vector(s.target_rho.abs().amax(1));
  }
  return s;
}

void narrow_survivors(Survivors& s, const std::vector<int64_t>& positions) {
  Survivors next;
  for (const int64_t p : positions) {
    const auto u = static_cast<size_t>(p);
    next.names.push_back(s.names[u]);
    next.info.target_rho.push_back(s.info.target_rho[u]);
    next.info.missing_fraction.push_back(s.info.missing_fraction[u]);
    next.info.variance.push_back(s.info.variance[u]);
    next.is_protected.push_back(s.is_protected[u]);
  }
  next.info.names = next.names;
  const auto index = torch::tensor(positions, torch::kLong);
  if (s.target_rho.defined()) next.target_rho = s.target_rho.index_select(0, index);
  if (s.sample.defined()) next.sample = s.sample.index_select(0, index);
  if (s.holdout.defined()) next.holdout = s.holdout.index_select(0, index);
  s = std::move(next);
}

}  // namespace safetrain::data::descriptors
