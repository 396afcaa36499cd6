// The pass sequence: resume from checkpoints, run what is left, free each pass's buffers before the next.
#include "safetrain/data/descriptors/pipeline.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "checkpoints.hpp"
#include "passes.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/monitor/trim.hpp"

namespace safetrain::data::descriptors {
namespace {

using Clock = std::chrono::steady_clock;

int64_t column_index(const std::vector<std::string>& columns, const std::string& name, const char* key) {
  const auto at = std::find(columns.begin(), columns.end(), name);
  if (at == columns.end()) {
    const auto suggestion = text::closest_match(name, columns);
    throw InputError(std::string(key) + ": column '" + name + "' is not in the input" +
                     (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
  }
  return at - columns.begin();
}

std::vector<int64_t> indices_of(const std::vector<std::string>& all, const std::vector<std::string>& names) {
  std::vector<int64_t> out;
  for (const auto& n : names) out.push_back(column_index(all, n, "descriptors checkpoint"));
  return out;
}

// A row sample of the survivors for the kernel passes, missing cells filled with the column mean.
torch::Tensor row_sample(const torch::Tensor& values, int64_t rows, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  const int64_t n = values.size(1);
  const auto picked =
      n <= rows ? values : values.index_select(1, torch::randperm(n, generator, torch::kLong).narrow(0, 0, rows));
  const auto present = torch::isnan(picked).logical_not();
  const auto means = torch::where(present, picked, torch::zeros_like(picked)).sum(1, true) /
                     present.sum(1, true).clamp_min(1).to(picked.scalar_type());
  return torch::where(present, picked, means.expand_as(picked));
}

double megabytes(int64_t bytes) { return bytes < 0 ? -1.0 : static_cast<double>(bytes) / (1024.0 * 1024.0); }

// Survivors of the passes so far, with what the later passes need per column.
struct Survivors {
  std::vector<std::string> names;
  Informativeness info;
  std::vector<bool> is_protected;
  torch::Tensor values;  // [names.size(), rows], owned
};

class PassRunner {
 public:
  PassRunner(const DescriptorOptions& options, std::string key, PipelineResult& result)
      : options_(options), key_(std::move(key)), result_(result) {}

  // Re-applies every finished pass found in the checkpoint directory; returns the last one (0: none).
  int resume(std::vector<std::string>& kept) {
    int last = 0;
    for (int pass = 1; pass <= 4; ++pass) {
      if (!enabled(pass)) continue;
      auto c = read_pass_checkpoint(options_.checkpoint_dir, pass, key_);
      if (!c) break;
      kept = c->kept;
      for (auto& d : c->dropped) result_.decisions.push_back(std::move(d));
      for (auto& a : c->clusters) result_.clusters.push_back(std::move(a));
      for (auto entry : c->reports) {
        entry["resumed"] = true;
        result_.report["passes"].push_back(entry);
      }
      log::info("descriptors: pass ", pass, " resumed from checkpoint (", kept.size(), " columns kept)");
      last = pass;
    }
    return last;
  }

  bool enabled(int pass) const {
    return pass <= 1 || (pass == 2 && options_.spearman) || (pass == 3 && options_.hsic) || (pass == 4 && options_.rdc);
  }

  // Records a finished pass: report entry (with memory figures), checkpoint, progress callback.
  void finish(int pass, const char* name, size_t input, const std::vector<std::string>& kept, Clock::time_point start,
              size_t decisions_before, const std::vector<ClusterAssignment>& clusters, const torch::Tensor& held,
              nlohmann::json* earlier_entry = nullptr) {
    nlohmann::json dropped = nlohmann::json::array();
    PassCheckpoint checkpoint;
    checkpoint.pass = pass;
    checkpoint.kept = kept;
    checkpoint.clusters = clusters;
    for (size_t i = decisions_before; i < result_.decisions.size(); ++i) {
      const auto& d = result_.decisions[i];
      dropped.push_back({{"column", d.column}, {"reason", d.reason}, {"partner", d.partner}});
      checkpoint.dropped.push_back(d);
    }
    monitor::release_cached_memory();  // the pass's buffers are gone: give their pages (and GPU cache) back
    nlohmann::json entry{{"pass", pass},
                         {"name", name},
                         {"input_columns", input},
                         {"kept", kept.size()},
                         {"dropped", dropped},
                         {"seconds", std::chrono::duration<double>(Clock::now() - start).count()},
                         {"held_columns_mb", held.defined() ? megabytes(held.nbytes()) : 0.0},
                         {"rss_mb_after", megabytes(monitor::current_rss_bytes())},
                         {"peak_rss_mb_so_far", megabytes(monitor::peak_rss_bytes())},
                         {"resumed", false}};
    const auto device = monitor::cuda_memory();
    if (device.reserved >= 0) entry["device_reserved_mb_after"] = megabytes(device.reserved);
    if (earlier_entry) checkpoint.reports.push_back(*earlier_entry);
    checkpoint.reports.push_back(entry);
    write_pass_checkpoint(options_.checkpoint_dir, key_, checkpoint);
    if (earlier_entry) result_.report["passes"].push_back(*earlier_entry);
    result_.report["passes"].push_back(entry);
    log::info("descriptors: pass ", pass, " ", name, " kept ", kept.size(), " of ", input, " columns (",
              entry["seconds"].get<double>(), " s, rss ", entry["rss_mb_after"].get<double>(), " MB)");
    if (options_.on_pass_finished) options_.on_pass_finished(entry);
  }

 private:
  const DescriptorOptions& options_;
  std::string key_;
  PipelineResult& result_;
};

// Keeps only `positions` of the survivors (an owned copy of their rows; the old tensor is freed).
void narrow_survivors(Survivors& s, const std::vector<int64_t>& positions) {
  Survivors next;
  for (const int64_t p : positions) {
    const auto u = static_cast<size_t>(p);
    next.names.push_back(s.names[u]);
    next.info.target_rho.push_back(s.info.target_rho[u]);
    next.info.missing_fraction.push_back(s.info.missing_fraction[u]);
    next.is_protected.push_back(s.is_protected[u]);
  }
  next.values = s.values.index_select(0, torch::tensor(positions, torch::kLong));
  s = std::move(next);
}

// Loads the survivors (all rows: the bound of passes 2-4) and scores them against the targets.
Survivors load_survivors(RowBatchSource& source, const std::vector<std::string>& kept,
                         const std::vector<int64_t>& target_columns, const std::set<int64_t>& protected_columns,
                         NanPolicy policy, bool prefer_gpu) {
  Survivors s;
  s.names = kept;
  const auto indices = indices_of(source.columns(), kept);
  s.values = load_columns(source, indices);
  const auto missing = torch::isnan(s.values).to(torch::kDouble).mean(1).contiguous();
  s.info.missing_fraction.assign(missing.data_ptr<double>(), missing.data_ptr<double>() + missing.numel());
  s.info.target_rho.assign(kept.size(), 0.0);
  if (!target_columns.empty()) {
    const auto targets = load_columns(source, target_columns);
    const auto rho = spearman_cross(s.values, targets, policy, 0, prefer_gpu).abs().amax(1).contiguous();
    s.info.target_rho.assign(rho.data_ptr<double>(), rho.data_ptr<double>() + rho.numel());
  }
  for (const int64_t c : indices) s.is_protected.push_back(protected_columns.count(c) > 0);
  if (policy == NanPolicy::drop_rows) {
    s.values = complete_observations(s.values);
    if (s.values.size(1) < 2) {
      throw InputError("descriptors.nan_policy drop_rows: fewer than 2 rows have every surviving column present");
    }
  }
  return s;
}

}  // namespace

PipelineResult run_pipeline(RowBatchSource& source, const DescriptorOptions& o) {
  const auto policy = parse_nan_policy(o.nan_policy);
  const auto& columns = source.columns();
  const std::string key = cache_key(source, o);
  std::vector<int64_t> target_columns;
  std::set<int64_t> protected_columns;
  for (const auto& name : o.targets) target_columns.push_back(column_index(columns, name, "descriptors targets"));
  for (const auto& name : o.keep) protected_columns.insert(column_index(columns, name, "descriptors.keep"));
  std::vector<int64_t> candidates;
  for (int64_t c = 0; c < static_cast<int64_t>(columns.size()); ++c) {
    if (std::find(target_columns.begin(), target_columns.end(), c) == target_columns.end()) candidates.push_back(c);
  }
  if (candidates.empty()) {
    throw InputError("descriptors: the input has no feature columns besides the " +
                     std::to_string(target_columns.size()) + " target column(s)");
  }

  PipelineResult result;
  result.report = {{"input_columns", candidates.size()}, {"targets", o.targets}, {"cache_key", key},
                   {"nan_policy", o.nan_policy},           {"passes", nlohmann::json::array()}};
  PassRunner runner(o, key, result);
  std::vector<std::string> kept;
  const int resumed_through = runner.resume(kept);

  if (resumed_through < 1) {
    auto start = Clock::now();
    const auto stats = compute_stats(source);
    if (stats.empty() || stats.front().count + stats.front().missing == 0) {
      throw InputError("descriptors: the input has no data rows");
    }
    for (const int64_t c : target_columns) {
      if (stats[static_cast<size_t>(c)].count == 0) {
        throw InputError("descriptors: target column '" + columns[static_cast<size_t>(c)] + "' has no values (all NaN)");
      }
    }
    for (const int64_t c : protected_columns) {
      if (stats[static_cast<size_t>(c)].count == 0) {
        throw InputError("descriptors.keep: column '" + columns[static_cast<size_t>(c)] + "' has no values (all NaN)");
      }
    }
    nlohmann::json stats_entry{{"pass", 0},
                               {"name", "stats"},
                               {"input_columns", candidates.size()},
                               {"kept", candidates.size()},
                               {"dropped", nlohmann::json::array()},
                               {"seconds", std::chrono::duration<double>(Clock::now() - start).count()},
                               {"rss_mb_after", megabytes(monitor::current_rss_bytes())},
                               {"peak_rss_mb_so_far", megabytes(monitor::peak_rss_bytes())},
                               {"resumed", false}};
    start = Clock::now();
    const size_t before = result.decisions.size();
    for (const int64_t c : filter_columns(source, stats, candidates, protected_columns, o, result.decisions)) {
      kept.push_back(columns[static_cast<size_t>(c)]);
    }
    for (size_t i = before; i < result.decisions.size(); ++i) {
      if (result.decisions[i].reason == "every cell is missing") {
        log::warn("descriptors: column '", result.decisions[i].column, "' has no values (all NaN); dropped");
      }
    }
    runner.finish(1, "filter", candidates.size(), kept, start, before, {}, {}, &stats_entry);
  }

  bool later = false;
  for (int pass = std::max(2, resumed_through + 1); pass <= 4; ++pass) later = later || runner.enabled(pass);
  if (later && kept.size() > 1) {
    // Passes 2-4 hold the survivors' rows (kept.size() x rows floats); freed at the end of this scope.
    auto s = load_survivors(source, kept, target_columns, protected_columns, policy, o.prefer_gpu);
    if (o.spearman && resumed_through < 2) {
      const auto start = Clock::now();
      const size_t input = s.names.size(), before = result.decisions.size();
      std::vector<ClusterAssignment> clusters;
      std::vector<int64_t> positions;
      {
        const auto rho = spearman_matrix(s.values, policy, 0, o.prefer_gpu);  // k x k doubles, freed at scope end
        const auto pass = spearman_pass(rho, s.names, s.is_protected, s.info, o, result.decisions);
        for (size_t i = 0; i < input; ++i) {
          clusters.push_back({s.names[i], pass.community[i], s.names[static_cast<size_t>(pass.representative[i])]});
        }
        positions = pass.kept;
      }
      narrow_survivors(s, positions);
      result.clusters.insert(result.clusters.end(), clusters.begin(), clusters.end());
      runner.finish(2, "spearman+leiden", input, s.names, start, before, clusters, s.values);
    }
    if (o.hsic && resumed_through < 3 && s.names.size() > 1) {
      const auto start = Clock::now();
      const size_t input = s.names.size(), before = result.decisions.size();
      std::vector<int64_t> positions;
      {
        const auto score = hsic_matrix(row_sample(s.values, o.hsic_sample_rows, o.seed));
        positions = drop_redundant_pairs(score, o.hsic_threshold, 3, "normalised HSIC", s.names, s.is_protected,
                                         s.info, result.decisions);
      }
      narrow_survivors(s, positions);
      runner.finish(3, "hsic", input, s.names, start, before, {}, s.values);
    }
    if (o.rdc && resumed_through < 4 && s.names.size() > 1) {
      const auto start = Clock::now();
      const size_t input = s.names.size(), before = result.decisions.size();
      std::vector<int64_t> positions;
      {
        const auto score = rdc_matrix(row_sample(s.values, o.hsic_sample_rows, o.seed + 1), o.rdc_k, o.rdc_s, o.seed);
        positions =
            drop_redundant_pairs(score, o.rdc_threshold, 4, "RDC", s.names, s.is_protected, s.info, result.decisions);
      }
      narrow_survivors(s, positions);
      runner.finish(4, "rdc", input, s.names, start, before, {}, s.values);
    }
    kept = s.names;
  }
  monitor::release_cached_memory();

  // Kept columns in input order; one decision per feature column.
  const std::set<std::string> kept_set(kept.begin(), kept.end());
  for (const int64_t c : candidates) {
    const auto& name = columns[static_cast<size_t>(c)];
    if (kept_set.count(name)) {
      result.kept_columns.push_back(name);
      result.decisions.push_back({name, true, -1, "kept", ""});
    }
  }
  nlohmann::json columns_report = nlohmann::json::array();
  for (const auto& d : result.decisions) {
    columns_report.push_back(
        {{"column", d.column}, {"kept", d.kept}, {"pass", d.pass}, {"reason", d.reason}, {"partner", d.partner}});
  }
  result.report["kept_columns"] = result.kept_columns;
  result.report["columns"] = columns_report;
  return result;
}

}  // namespace safetrain::data::descriptors
