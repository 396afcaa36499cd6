// descriptor_pipeline: the column pruner on its own, over CSV files.
#include <CLI/CLI.hpp>
#include <iostream>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"
#include "safetrain/train/config.hpp"
#include "safetrain/train/config_loader.hpp"

using namespace safetrain;
namespace ds = safetrain::data::descriptors;

int main(int argc, char** argv) {
  CLI::App app{"safetrain descriptor_pipeline: prunes redundant numeric columns in passes (0 stats, 1 filter,\n"
               "2 Spearman + Leiden, 3 HSIC, 4 RDC), reading the CSV input in row batches. Writes\n"
               "OUTPUT_DIR/selected_columns.txt, selected_columns.json and report.json (every column, kept or\n"
               "dropped, with the pass and the reason). Settings come from the descriptors: section of --config."};
  std::string input, output_dir, config_path = "configs/safe_training.yaml", targets;
  bool checkpoint = false, prefer_gpu = false;
  int64_t batch_rows = 0;
  app.add_option("--input", input, "CSV file or glob, e.g. 'data/*.csv'")->required();
  app.add_option("--output-dir", output_dir, "where to write the selection and the report")->required();
  app.add_option("-c,--config", config_path, "config whose descriptors: section to use")->capture_default_str();
  app.add_option("--targets", targets, "comma-separated target columns, never pruned (default: data.targets)");
  app.add_flag("--checkpoint", checkpoint, "write each pass's result to OUTPUT_DIR/checkpoints and resume from it");
  app.add_flag("--prefer-gpu", prefer_gpu, "multiply ranks on CUDA when available");
  app.add_option("--batch-rows", batch_rows, "rows per streamed batch (default: descriptors.batch_rows)");
  CLI11_PARSE(app, argc, argv);
  return guarded_main("descriptor_pipeline", [&] {
    const auto resolved = train::load_config(config_path);
    const auto config = train::make_config(resolved.tree, resolved.file.string());
    const auto& d = config.descriptors;
    ds::DescriptorOptions o;
    o.batch_rows = batch_rows > 0 ? batch_rows : d.batch_rows;
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
    o.prefer_gpu = prefer_gpu || d.prefer_gpu;
    if (checkpoint) o.checkpoint_dir = std::filesystem::path(output_dir) / "checkpoints";
    ds::CsvRowSource source(input, o.batch_rows);
    if (!targets.empty()) {
      for (const auto& t : text::split(targets, ',')) o.targets.push_back(text::trim(t));
    } else {
      for (const auto& t : config.data.targets) {
        if (std::find(source.columns().begin(), source.columns().end(), t) != source.columns().end()) o.targets.push_back(t);
      }
      if (!config.data.target_prefix.empty()) {
        for (const auto& c : source.columns()) {
          if (c.rfind(config.data.target_prefix, 0) == 0) o.targets.push_back(c);
        }
      }
    }
    const auto result = ds::run_pipeline(source, o);
    ds::write_outputs(result, output_dir);
    std::cout << "descriptor_pipeline: kept " << result.kept_columns.size() << " of "
              << source.columns().size() - o.targets.size() << " feature columns -> " << output_dir << std::endl;
    return 0;
  });
}
