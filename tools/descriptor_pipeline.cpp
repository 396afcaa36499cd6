// descriptor_pipeline: the column pruner on its own, over CSV files.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"
#include "safetrain/train/config.hpp"
#include "safetrain/train/config_loader.hpp"

using namespace safetrain;
namespace ds = safetrain::data::descriptors;

namespace {

// The descriptors: section of a config (and its data.targets / target_prefix for the default targets).
void apply_config(const std::string& path, ds::DescriptorOptions& o, std::vector<std::string>& targets,
                  std::string& target_prefix) {
  const auto resolved = train::load_config(path);
  const auto config = train::make_config(resolved.tree, resolved.file.string());
  const auto& d = config.descriptors;
  o.batch_rows = d.batch_rows;
  o.max_missing_fraction = d.max_missing_fraction;
  o.min_variance = d.min_variance;
  o.spearman = d.spearman;
  o.spearman_threshold = d.spearman_threshold;
  o.leiden_resolution = d.leiden_resolution;
  o.hsic = d.hsic;
  o.hsic_sample_rows = d.hsic_sample_rows;
  o.hsic_threshold = d.hsic_threshold;
  o.rdc = d.rdc;
  o.rdc_k = d.rdc_k;
  o.rdc_s = d.rdc_s;
  o.rdc_threshold = d.rdc_threshold;
  o.keep = d.keep;
  o.seed = config.seed;
  o.prefer_gpu = d.prefer_gpu;
  targets = config.data.targets;
  target_prefix = config.data.target_prefix;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"safetrain descriptor_pipeline: prunes redundant numeric columns in passes (0 stats, 1 filter,\n"
               "2 Spearman + Leiden, 3 HSIC, 4 RDC), reading the CSV input in row batches. Writes\n"
               "OUTPUT_DIR/selected_columns.txt, selected_columns.json, clusters.csv and report.json (every column,\n"
               "kept or dropped, with the pass, the reason and the partner column). Settings come from the\n"
               "descriptors: section of --config (default configs/safe_training.yaml when it exists)."};
  std::string input, output_dir, config_path, targets, nan_policy;
  bool checkpoint = false, prefer_gpu = false, verbose = false;
  int64_t batch_rows = 0;
  app.add_option("--input", input, "CSV file or glob, e.g. 'data/*.csv'")->required();
  app.add_option("--output-dir", output_dir, "where to write the selection and the report")->required();
  app.add_option("-c,--config", config_path, "config whose descriptors: section to use");
  app.add_option("--targets", targets, "comma-separated target columns, never pruned (default: data.targets)");
  app.add_option("--nan-policy", nan_policy, "missing cells in Spearman: pairwise (default), fill_mean or drop_rows");
  app.add_flag("--checkpoint", checkpoint, "write each pass's result to OUTPUT_DIR/checkpoints and resume from it");
  app.add_flag("--prefer-gpu", prefer_gpu, "multiply ranks on CUDA when available (else says so and uses the CPU)");
  app.add_option("--batch-rows", batch_rows, "rows per streamed batch (default: descriptors.batch_rows)");
  app.add_flag("-v,--verbose", verbose, "also print every dropped column with its reason");
  CLI11_PARSE(app, argc, argv);
  return guarded_main("descriptor_pipeline", [&] {
    ds::DescriptorOptions o;
    std::vector<std::string> config_targets;
    std::string target_prefix;
    if (config_path.empty() && std::filesystem::exists("configs/safe_training.yaml")) {
      config_path = "configs/safe_training.yaml";
    }
    if (!config_path.empty()) apply_config(config_path, o, config_targets, target_prefix);
    if (batch_rows > 0) o.batch_rows = batch_rows;
    if (!nan_policy.empty()) o.nan_policy = nan_policy;
    o.prefer_gpu = o.prefer_gpu || prefer_gpu;
    if (checkpoint) o.checkpoint_dir = std::filesystem::path(output_dir) / "checkpoints";
    ds::validate_options(o);
    ds::CsvRowSource source(input, o.batch_rows);
    const auto& columns = source.columns();
    if (!targets.empty()) {
      for (const auto& t : text::split(targets, ',')) o.targets.push_back(text::trim(t));
    } else {
      for (const auto& c : columns) {
        const bool listed = std::find(config_targets.begin(), config_targets.end(), c) != config_targets.end();
        if (listed || (!target_prefix.empty() && c.rfind(target_prefix, 0) == 0)) o.targets.push_back(c);
      }
    }
    o.on_pass_finished = [verbose](const nlohmann::json& pass) {
      std::cout << "pass " << pass["pass"].get<int>() << " " << pass["name"].get<std::string>() << ": kept "
                << pass["kept"] << " of " << pass["input_columns"] << " columns in " << pass["seconds"].get<double>()
                << " s (rss " << pass["rss_mb_after"].get<double>() << " MB)" << std::endl;
      if (!verbose) return;
      for (const auto& d : pass["dropped"]) {
        std::cout << "  dropped " << d["column"].get<std::string>() << ": " << d["reason"].get<std::string>() << "\n";
      }
    };
    const auto result = ds::run_pipeline(source, o);
    ds::write_outputs(result, output_dir);
    std::cout << "descriptor_pipeline: kept " << result.kept_columns.size() << " of "
              << columns.size() - o.targets.size() << " feature columns -> " << output_dir << std::endl;
    return 0;
  });
}
