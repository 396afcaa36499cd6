// descriptor_pipeline: the column pruner on its own, over table files (CSV, .csv.gz, Parquet).
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <filesystem>
#include <iostream>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/config/derived.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"

using namespace safetrain;
namespace ds = safetrain::data::descriptors;

namespace {

struct Arguments {
  std::string input, output_dir, config_path, targets, nan_policy, id_columns, ignore_columns;
  std::vector<std::string> overrides;
  bool targets_given = false, checkpoint = false, prefer_gpu = false, verbose = false;
  int64_t batch_rows = 0;
};

// A column name as a YAML double-quoted scalar (a name may hold ':' or '#').
std::string yaml_quoted(const std::string& name) {
  std::string quoted = "\"";
  for (char c : name) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return quoted + "\"";
}

// "a, b" -> ["a", "b"] as YAML text.
std::string yaml_list(const std::string& comma_separated) {
  std::string list;
  for (const auto& raw : text::split(comma_separated, ',')) {
    const std::string name = text::trim(raw);
    if (!name.empty()) list += (list.empty() ? "" : ", ") + yaml_quoted(name);
  }
  return "[" + list + "]";
}

// Targets are optional here (a table of descriptors alone is the main use): --targets when given ('' or [] = none),
// else data.targets when --config sets it, else none. The built-in default (the synthetic arm's x, y, z, ...)
// never applies to a user's table.
bool names_targets(const Arguments& a) {
  if (a.targets_given) return !text::trim(a.targets).empty() && text::trim(a.targets) != "[]";
  return !a.config_path.empty() && config::config_sets_key(a.config_path, "data.targets");
}

// The settings: the config's (or the built-in defaults, the same the trainer uses), then the flags, each
// validated by the schema like a --set.
config::Config resolve_settings(const Arguments& a) {
  std::vector<config::Override> overrides;
  for (const auto& text : a.overrides) overrides.push_back(config::parse_override(text));
  if (a.batch_rows > 0) overrides.push_back({"descriptors.batch_rows", std::to_string(a.batch_rows)});
  if (!a.nan_policy.empty()) overrides.push_back({"descriptors.nan_policy", a.nan_policy});
  if (a.prefer_gpu) overrides.push_back({"descriptors.prefer_gpu", "true"});
  if (!a.id_columns.empty()) overrides.push_back({"data.id_columns", yaml_list(a.id_columns)});
  if (!a.ignore_columns.empty()) overrides.push_back({"data.ignore_columns", yaml_list(a.ignore_columns)});
  const bool with_targets = names_targets(a);
  if (with_targets && a.targets_given) {
    const auto names = text::split(a.targets, ',');
    // One name ending in '_' is a prefix, as data.targets: target_ in a config.
    const std::string first = text::trim(names.front());
    const bool prefix = names.size() == 1 && !first.empty() && first.back() == '_';
    overrides.push_back({"data.targets", prefix ? yaml_quoted(first) : yaml_list(a.targets)});
  }
  const auto resolved = a.config_path.empty() ? config::resolve_from_text("", "built-in defaults", overrides)
                                              : config::load_config(a.config_path, overrides);
  auto config = config::make_config(resolved.tree, resolved.file.string());
  if (!with_targets) {  // every numeric column is a candidate descriptor
    config.data.targets.names.clear();
    config.data.targets.prefix.clear();
  }
  return config;
}

void print_pass(const nlohmann::json& pass, bool verbose) {
  std::cout << "pass " << pass["pass"].get<int>() << " " << pass["name"].get<std::string>() << ": kept "
            << pass["kept"] << " of " << pass["input_columns"] << " columns in " << pass["seconds"].get<double>()
            << " s (rss " << pass["rss_mb_after"].get<double>() << " MB)" << std::endl;
  if (!verbose) return;
  for (const auto& d : pass["dropped"]) {
    std::cout << "  dropped " << d["column"].get<std::string>() << ": " << d["reason"].get<std::string>() << "\n";
  }
}

int run(const Arguments& a) {
  StopSignals signals;  // a stop between row batches and passes: exit 130/143, finished passes kept (--checkpoint)
  const auto config = resolve_settings(a);
  const auto source = data::open_table_source(a.input, config.data.read, config::csv_roles(config));
  source->set_batch_rows(config.descriptors.batch_rows);
  auto o = config::descriptor_options(config, source->columns(), a.input);
  if (a.checkpoint) o.checkpoint_dir = std::filesystem::path(a.output_dir) / "checkpoints";
  o.on_pass_finished = [verbose = a.verbose](const nlohmann::json& pass) { print_pass(pass, verbose); };
  auto result = ds::run_pipeline(*source, o);
  result.report["settings_from"] = config.source;
  ds::write_outputs(result, a.output_dir);
  std::cout << "descriptor_pipeline: kept " << result.kept_columns.size() << " of "
            << source->columns().size() - o.targets.size() << " feature columns -> " << a.output_dir << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"safetrain descriptor_pipeline: prunes redundant numeric columns in passes (0 stats, 1 filter,\n"
               "2 Spearman + Leiden, 3 HSIC, 4 RDC), reading the input in row batches. Writes\n"
               "OUTPUT_DIR/selected_columns.txt, selected_columns.json, clusters.csv and report.json (every column,\n"
               "kept or dropped, with the pass, the reason and the partner column, and every setting used).\n"
               "Settings: the descriptors: section and data.* column roles of --config, else the trainer's\n"
               "defaults; targets are optional (a table of descriptors alone); the current directory never matters."};
  Arguments a;
  app.add_option("--input", a.input, "table file, glob or dataset directory: CSV, .csv.gz, .csv.zst or Parquet, e.g. 'data/*.csv' or "
                 "'seed/*.parquet' (the format by extension, or --set data.format=...)")->required();
  app.add_option("--output-dir", a.output_dir, "where to write the selection and the report")->required();
  app.add_option("-c,--config", a.config_path, "config whose descriptors: section and data.targets, data.id_columns, data.ignore_columns to use");
  app.add_option("--set", a.overrides, "override a config key, e.g. --set descriptors.rdc=false (repeatable)");
  auto* targets = app.add_option("--targets", a.targets,
                                  "target columns, never pruned: comma-separated names, or one prefix such as "
                                  "target_; '' = none (default: data.targets of --config, else none)");
  app.add_option("--id-columns", a.id_columns,
                 "comma-separated columns that identify a row (e.g. mol_id, smiles): never descriptors, even "
                 "when numeric (default: data.id_columns)");
  app.add_option("--ignore-columns", a.ignore_columns,
                 "comma-separated columns never read (default: data.ignore_columns)");
  app.add_option("--nan-policy", a.nan_policy, "missing cells in Spearman: pairwise, fill_mean or drop_rows "
                 "(default: descriptors.nan_policy)");
  app.add_flag("--checkpoint", a.checkpoint, "write each pass's result to OUTPUT_DIR/checkpoints and resume from it");
  app.add_flag("--prefer-gpu", a.prefer_gpu, "multiply ranks on CUDA when available (else says so and uses the CPU)");
  app.add_option("--batch-rows", a.batch_rows, "rows per streamed batch (default: descriptors.batch_rows)");
  app.add_flag("-v,--verbose", a.verbose, "also print every dropped column with its reason");
  SAFETRAIN_PARSE(app, argc, argv);
  a.targets_given = targets->count() > 0;
  return guarded_main("descriptor_pipeline", [&] { return run(a); });
}
