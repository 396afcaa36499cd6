#include "safetrain/data/descriptors/pipeline.hpp"

#include <malloc.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "passes.hpp"
#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"

namespace fs = std::filesystem;

namespace safetrain::data::descriptors {
namespace {

struct PassRecord {
  int pass;
  const char* name;
  size_t input, kept;
  double seconds;
};

// Per-pass checkpoint: the surviving column names, so a rerun resumes after the last finished pass.
std::optional<std::vector<std::string>> read_pass_checkpoint(const fs::path& dir, int pass, const std::string& key,
                                                             std::vector<ColumnDecision>& decisions) {
  if (dir.empty()) return std::nullopt;
  std::ifstream in(dir / ("pass_" + std::to_string(pass) + ".json"));
  if (!in) return std::nullopt;
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || j.value("key", "") != key) return std::nullopt;
  for (const auto& d : j["dropped"]) decisions.push_back({d[0], false, pass, d[1]});
  return j["kept"].get<std::vector<std::string>>();
}

void write_pass_checkpoint(const fs::path& dir, int pass, const std::string& key, const std::vector<std::string>& kept,
                           const std::vector<ColumnDecision>& decisions) {
  if (dir.empty()) return;
  fs::create_directories(dir);
  nlohmann::json dropped = nlohmann::json::array();
  for (const auto& d : decisions) {
    if (d.pass == pass) dropped.push_back({d.column, d.reason});
  }
  write_file_atomically(dir / ("pass_" + std::to_string(pass) + ".json"),
                        nlohmann::json{{"key", key}, {"kept", kept}, {"dropped", dropped}}.dump() + "\n");
}

std::vector<int64_t> indices_of(const std::vector<std::string>& all, const std::vector<std::string>& names) {
  std::vector<int64_t> out;
  for (const auto& n : names) out.push_back(std::find(all.begin(), all.end(), n) - all.begin());
  return out;
}

// A row sample of the loaded survivors for the kernel passes, missing cells filled with the column mean.
torch::Tensor row_sample(const torch::Tensor& values, int64_t rows, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  const int64_t n = values.size(1);
  auto picked = n <= rows ? values : values.index_select(1, torch::randperm(n, generator, torch::kLong).narrow(0, 0, rows));
  const auto present = torch::isnan(picked).logical_not();
  const auto means = torch::where(present, picked, torch::zeros_like(picked)).sum(1, true) /
                     present.sum(1, true).clamp_min(1).to(picked.scalar_type());
  return torch::where(present, picked, means.expand_as(picked));
}

}  // namespace

PipelineResult run_pipeline(RowBatchSource& source, const DescriptorOptions& o) {
  const auto& columns = source.columns();
  const std::string key = cache_key(source, o);
  std::set<int64_t> protected_columns, target_columns;
  for (const auto& name : o.targets) {
    const auto at = std::find(columns.begin(), columns.end(), name);
    if (at == columns.end()) throw InputError("descriptors: target column '" + name + "' is not in the input");
    target_columns.insert(at - columns.begin());
  }
  for (const auto& name : o.keep) {
    const auto at = std::find(columns.begin(), columns.end(), name);
    if (at == columns.end()) throw InputError("descriptors.keep: column '" + name + "' is not in the input");
    protected_columns.insert(at - columns.begin());
  }
  PipelineResult result;
  std::vector<PassRecord> passes;
  auto clock = [] { return std::chrono::steady_clock::now(); };
  auto seconds = [](auto start) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };

  std::vector<int64_t> candidates;
  for (int64_t c = 0; c < static_cast<int64_t>(columns.size()); ++c) {
    if (!target_columns.count(c)) candidates.push_back(c);
  }
  // Passes 0 + 1.
  std::vector<std::string> kept_names;
  std::vector<ColumnStats> stats;
  auto start = clock();
  if (auto resumed = read_pass_checkpoint(o.checkpoint_dir, 1, key, result.decisions)) {
    kept_names = *resumed;
    log::info("descriptors: pass 0-1 resumed from checkpoint (", kept_names.size(), " columns)");
  } else {
    stats = compute_stats(source);
    passes.push_back({0, "stats", candidates.size(), candidates.size(), seconds(start)});
    start = clock();
    for (const int64_t c : filter_columns(source, stats, candidates, protected_columns, o, result.decisions)) {
      kept_names.push_back(columns[static_cast<size_t>(c)]);
    }
    write_pass_checkpoint(o.checkpoint_dir, 1, key, kept_names, result.decisions);
  }
  passes.push_back({1, "filter", candidates.size(), kept_names.size(), seconds(start)});
  log::info("descriptors: pass 1 filter kept ", kept_names.size(), " of ", candidates.size(), " columns");

  const bool later_passes = (o.spearman || o.hsic || o.rdc) && kept_names.size() > 1;
  if (later_passes) {
    // Survivors then targets, loaded once for passes 2-4 (rows x survivors floats), freed at scope end.
    std::vector<int64_t> loaded = indices_of(columns, kept_names);
    for (const int64_t t : target_columns) loaded.push_back(t);
    torch::Tensor values = load_columns(source, loaded);
    const auto targets = static_cast<int64_t>(target_columns.size());
    Informativeness info;
    std::vector<bool> is_protected;
    torch::Tensor rho_all = spearman_matrix(values, 256, o.prefer_gpu);
    {
      const auto k = static_cast<int64_t>(kept_names.size());
      const auto r = rho_all.accessor<double, 2>();
      for (int64_t i = 0; i < k; ++i) {
        double best = 0;
        for (int64_t t = k; t < k + targets; ++t) best = std::max(best, std::abs(r[i][t]));
        info.target_rho.push_back(best);
        info.missing_fraction.push_back(torch::isnan(values[i]).to(torch::kDouble).mean().item<double>());
        is_protected.push_back(protected_columns.count(loaded[static_cast<size_t>(i)]) > 0);
      }
    }
    // Keeps only `positions` (into kept_names) in every per-column structure, then checkpoints the pass.
    auto narrow_to = [&](const std::vector<int64_t>& positions, int pass, const char* name, double secs) {
      const size_t input = kept_names.size();
      std::vector<std::string> names;
      Informativeness next;
      std::vector<bool> next_protected;
      std::vector<int64_t> rows(positions.begin(), positions.end());
      for (int64_t t = 0; t < targets; ++t) rows.push_back(static_cast<int64_t>(input) + t);
      for (const int64_t p : positions) {
        const auto u = static_cast<size_t>(p);
        names.push_back(kept_names[u]);
        next.target_rho.push_back(info.target_rho[u]);
        next.missing_fraction.push_back(info.missing_fraction[u]);
        next_protected.push_back(is_protected[u]);
      }
      values = values.index_select(0, torch::tensor(rows, torch::kLong));
      kept_names = std::move(names);
      info = std::move(next);
      is_protected = std::move(next_protected);
      passes.push_back({pass, name, input, kept_names.size(), secs});
      write_pass_checkpoint(o.checkpoint_dir, pass, key, kept_names, result.decisions);
      log::info("descriptors: pass ", pass, " ", name, " kept ", kept_names.size(), " of ", input, " columns");
    };
    auto features = [&] { return values.narrow(0, 0, static_cast<int64_t>(kept_names.size())); };
    if (o.spearman) {
      start = clock();
      const auto k = static_cast<int64_t>(kept_names.size());
      const auto positions = spearman_pass(rho_all.narrow(0, 0, k).narrow(1, 0, k), kept_names, is_protected, info, o,
                                           result.decisions);
      narrow_to(positions, 2, "spearman+leiden", seconds(start));
    }
    rho_all = torch::Tensor();  // no longer needed: free before the kernel passes
    if (o.hsic && kept_names.size() > 1) {
      start = clock();
      const auto score = hsic_matrix(row_sample(features(), o.hsic_sample_rows, o.seed));
      narrow_to(drop_redundant_pairs(score, o.hsic_threshold, 3, "normalised HSIC", kept_names, is_protected, info,
                                     result.decisions),
                3, "hsic", seconds(start));
    }
    if (o.rdc && kept_names.size() > 1) {
      start = clock();
      const auto score = rdc_matrix(row_sample(features(), o.hsic_sample_rows, o.seed + 1), o.rdc_k, o.rdc_s, o.seed);
      narrow_to(drop_redundant_pairs(score, o.rdc_threshold, 4, "RDC", kept_names, is_protected, info, result.decisions),
                4, "rdc", seconds(start));
    }
  }
  malloc_trim(0);  // the pass buffers are gone; give their pages back

  // Kept columns in input order, decisions for every column.
  std::set<std::string> kept_set(kept_names.begin(), kept_names.end());
  for (const int64_t c : candidates) {
    const auto& name = columns[static_cast<size_t>(c)];
    if (kept_set.count(name)) {
      result.kept_columns.push_back(name);
      result.decisions.push_back({name, true, -1, "kept"});
    }
  }
  nlohmann::json pass_report = nlohmann::json::array();
  for (const auto& p : passes) {
    pass_report.push_back({{"pass", p.pass}, {"name", p.name}, {"input_columns", p.input}, {"kept", p.kept},
                           {"seconds", p.seconds}});
  }
  nlohmann::json columns_report = nlohmann::json::array();
  for (const auto& d : result.decisions) {
    columns_report.push_back({{"column", d.column}, {"kept", d.kept}, {"pass", d.pass}, {"reason", d.reason}});
  }
  result.report = {{"input_columns", candidates.size()}, {"targets", o.targets}, {"kept_columns", result.kept_columns},
                   {"passes", pass_report}, {"columns", columns_report}, {"cache_key", key}};
  return result;
}

void write_outputs(const PipelineResult& result, const fs::path& output_dir) {
  fs::create_directories(output_dir);
  std::ostringstream list;
  for (const auto& c : result.kept_columns) list << c << '\n';
  write_file_atomically(output_dir / "selected_columns.txt", list.str());
  write_file_atomically(output_dir / "selected_columns.json", nlohmann::json(result.kept_columns).dump(2) + "\n");
  write_file_atomically(output_dir / "report.json", result.report.dump(2) + "\n");
}

std::string cache_key(const RowBatchSource& source, const DescriptorOptions& o) {
  std::ostringstream text;
  text << source.fingerprint() << '|' << o.max_missing_fraction << '|' << o.min_variance << '|' << o.spearman << '|'
       << o.spearman_threshold << '|' << o.leiden_resolution << '|' << o.hsic << '|' << o.hsic_sample_rows << '|'
       << o.hsic_threshold << '|' << o.rdc << '|' << o.rdc_k << '|' << o.rdc_s << '|' << o.rdc_threshold << '|'
       << o.seed;
  for (const auto& t : o.targets) text << "|t:" << t;
  for (const auto& k : o.keep) text << "|k:" << k;
  std::ostringstream hashed;
  hashed << std::hex << std::hash<std::string>{}(text.str());
  return hashed.str();
}

}  // namespace safetrain::data::descriptors
