// The pass sequence: resume from checkpoints, run what is left, free each pass's buffers before the next.
#include "safetrain/data/descriptors/pipeline.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>
#include <set>

#include "checkpoints.hpp"
#include "passes.hpp"
#include "survivors.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/common/units.hpp"

namespace safetrain::data::descriptors {
namespace {

using Clock = std::chrono::steady_clock;

// A pass's wall time and the process's CPU time over it: on a machine other work shares, the CPU seconds
// still measure the pass's own work (report.json prints both).
struct PassClock {
  Clock::time_point wall = Clock::now();
  double cpu = cpu_now();

  static double cpu_now() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  nlohmann::json figures() const {
    return {{"seconds", std::chrono::duration<double>(Clock::now() - wall).count()}, {"cpu_seconds", cpu_now() - cpu}};
  }
};

int64_t column_index(const std::vector<std::string>& columns, const std::string& name, const char* key) {
  const auto at = std::find(columns.begin(), columns.end(), name);
  if (at == columns.end()) {
    const auto suggestion = text::closest_match(name, columns);
    throw InputError(std::string(key) + ": column '" + name + "' is not in the input" +
                     (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
  }
  return at - columns.begin();
}

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
  void finish(int pass, const char* name, size_t input, const std::vector<std::string>& kept, const PassClock& start,
              size_t decisions_before, const std::vector<ClusterAssignment>& clusters, int64_t held_bytes,
              const nlohmann::json& extra, nlohmann::json* earlier_entry = nullptr) {
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
                         {"held_columns_mb", bytes_to_mb(held_bytes)},
                         {"rss_mb_after", bytes_to_mb(monitor::current_rss_bytes())},
                         {"peak_rss_mb_so_far", bytes_to_mb(monitor::peak_rss_bytes())},
                         {"resumed", false}};
    entry.update(start.figures());
    entry.update(extra);
    const auto device = monitor::cuda_memory();
    if (device.reserved >= 0) entry["device_reserved_mb_after"] = bytes_to_mb(device.reserved);
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

}  // namespace

namespace {

// Which input columns are targets, protected (descriptors.keep) and candidates for pruning.
struct ColumnPlan {
  std::vector<int64_t> targets;
  std::set<int64_t> protected_columns;
  std::vector<int64_t> candidates;
};

ColumnPlan plan_columns(const std::vector<std::string>& columns, const DescriptorOptions& o) {
  ColumnPlan plan;
  for (const auto& name : o.targets) plan.targets.push_back(column_index(columns, name, "descriptors targets"));
  for (const auto& name : o.keep) plan.protected_columns.insert(column_index(columns, name, "descriptors.keep"));
  for (int64_t c = 0; c < static_cast<int64_t>(columns.size()); ++c) {
    if (std::find(plan.targets.begin(), plan.targets.end(), c) == plan.targets.end()) plan.candidates.push_back(c);
  }
  if (plan.candidates.empty()) {
    throw InputError("descriptors: the input has no feature columns besides the " +
                     std::to_string(plan.targets.size()) + " target column(s)");
  }
  return plan;
}

void require_values(const std::vector<ColumnStats>& stats, const std::vector<std::string>& columns,
                    const ColumnPlan& plan) {
  if (stats.empty() || stats.front().count + stats.front().missing == 0) {
    throw InputError("descriptors: the input has no data rows");
  }
  for (const int64_t c : plan.targets) {
    if (stats[static_cast<size_t>(c)].count == 0) {
      throw InputError("descriptors: target column '" + columns[static_cast<size_t>(c)] + "' has no values (all NaN)");
    }
  }
  for (const int64_t c : plan.protected_columns) {
    if (stats[static_cast<size_t>(c)].count == 0) {
      throw InputError("descriptors.keep: column '" + columns[static_cast<size_t>(c)] + "' has no values (all NaN)");
    }
  }
}

// Passes 0 (streaming statistics) and 1 (missing, constant, duplicate columns); returns the row count.
int64_t run_stats_and_filter(TableSource& source, const ColumnPlan& plan, const DescriptorOptions& o,
                             PassRunner& runner, PipelineResult& result, std::vector<ColumnStats>& stats,
                             std::vector<std::string>& kept) {
  const auto& columns = source.columns();
  PassClock start;
  stats = compute_stats(source);
  require_values(stats, columns, plan);
  nlohmann::json stats_entry{{"pass", 0},
                             {"name", "stats"},
                             {"input_columns", plan.candidates.size()},
                             {"kept", plan.candidates.size()},
                             {"dropped", nlohmann::json::array()},
                             {"rss_mb_after", bytes_to_mb(monitor::current_rss_bytes())},
                             {"peak_rss_mb_so_far", bytes_to_mb(monitor::peak_rss_bytes())},
                             {"resumed", false}};
  stats_entry.update(start.figures());
  start = PassClock{};
  const size_t before = result.decisions.size();
  for (const int64_t c : filter_columns(source, stats, plan.candidates, plan.protected_columns, o, result.decisions)) {
    kept.push_back(columns[static_cast<size_t>(c)]);
  }
  for (size_t i = before; i < result.decisions.size(); ++i) {
    if (result.decisions[i].reason == "every cell is missing") {
      log::warn("descriptors: column '", result.decisions[i].column, "' has no values (all NaN); dropped");
    }
  }
  const nlohmann::json batch_figures{
      {"working_set_mb", bytes_to_mb(o.batch_rows * static_cast<int64_t>(columns.size()) * 4 +
                                   static_cast<int64_t>(stats.size() * sizeof(ColumnStats)))}};
  stats_entry.update(batch_figures);
  runner.finish(1, "filter", plan.candidates.size(), kept, start, before, {}, 0, batch_figures, &stats_entry);
  return stats.front().count + stats.front().missing;
}

// Passes 2 (Spearman + Leiden), 3 (HSIC) and 4 (RDC) over the loaded survivors; narrows them in place.
void run_redundancy_passes(Survivors& s, const DescriptorOptions& o, int resumed_through, PassRunner& runner,
                           PipelineResult& result) {
  if (o.spearman && resumed_through < 2) {
    const PassClock start;
    const size_t input = s.names.size(), before = result.decisions.size();
    const int64_t held = s.held_bytes();
    WorkingSet working(o.max_working_mb << 20);
    std::vector<ClusterAssignment> clusters;
    const auto outcome = run_spearman_pass(s, o, result.decisions, clusters, working);
    narrow_survivors(s, outcome.positions);
    result.clusters.insert(result.clusters.end(), clusters.begin(), clusters.end());
    runner.finish(2, "spearman+leiden", input, s.names, start, before, clusters, held, outcome.extra);
  }
  for (const int pass : {3, 4}) {
    if (!runner.enabled(pass) || resumed_through >= pass || s.names.size() < 2) continue;
    const PassClock start;
    const size_t input = s.names.size(), before = result.decisions.size();
    WorkingSet working(o.max_working_mb << 20);
    const auto outcome = run_kernel_pass(pass, s, o, result.decisions, working);
    narrow_survivors(s, outcome.positions);
    runner.finish(pass, pass == 3 ? "hsic" : "rdc", input, s.names, start, before, {}, s.held_bytes(), outcome.extra);
  }
}

}  // namespace

PipelineResult run_pipeline(TableSource& source, const DescriptorOptions& o) {
  const auto policy = parse_nan_policy(o.nan_policy);
  const auto& columns = source.columns();
  const std::string key = cache_key(source, o);
  const ColumnPlan plan = plan_columns(columns, o);
  PipelineResult result;
  result.report = {{"input_columns", plan.candidates.size()}, {"targets", o.targets}, {"cache_key", key},
                   {"nan_policy", o.nan_policy},                {"passes", nlohmann::json::array()}};
  PassRunner runner(o, key, result);
  std::vector<std::string> kept;
  const int resumed_through = runner.resume(kept);
  std::vector<ColumnStats> stats;
  const int64_t total_rows =
      resumed_through < 1 ? run_stats_and_filter(source, plan, o, runner, result, stats, kept) : -1;

  bool later = false;
  for (int pass = std::max(2, resumed_through + 1); pass <= 4; ++pass) later = later || runner.enabled(pass);
  const bool associate = !plan.targets.empty();
  std::optional<Survivors> s;
  if ((later && kept.size() > 1) || (associate && !kept.empty())) {
    WorkingSet loading(o.max_working_mb << 20);
    const SurvivorSetup setup{&plan.targets, &plan.protected_columns, stats.empty() ? nullptr : &stats, policy,
                              later && (o.hsic || o.rdc), total_rows};
    const PassClock load_start;  // a read of the table like a pass's: timed beside them (report.json)
    s = load_survivors(source, kept, o, setup, loading);
    const auto load_figures = load_start.figures();
    result.report["load_seconds"] = load_figures["seconds"];
    result.report["load_cpu_seconds"] = load_figures["cpu_seconds"];
    result.report["load_working_set_mb"] = bytes_to_mb(loading.peak());
  }
  if (later && kept.size() > 1) {
    run_redundancy_passes(*s, o, resumed_through, runner, result);
    kept = s->names;
  }
  monitor::release_cached_memory();

  // Kept columns in input order; one decision per feature column.
  const std::set<std::string> kept_set(kept.begin(), kept.end());
  for (const int64_t c : plan.candidates) {
    const auto& name = columns[static_cast<size_t>(c)];
    if (kept_set.count(name)) {
      result.kept_columns.push_back(name);
      result.decisions.push_back({name, true, -1, "kept", "", ""});
    }
  }
  complete_report(result, o, s ? &*s : nullptr);
  return result;
}

}  // namespace safetrain::data::descriptors
