// predict: run a trained checkpoint over a table file (CSV, .csv.gz, Parquet).
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <iostream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/output_file.hpp"
#include "safetrain/common/run_layout.hpp"
#include "safetrain/common/openmp_policy.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/infer/prediction.hpp"
#include "safetrain/infer/training_splits.hpp"

using namespace safetrain;

namespace {

struct PredictArguments {
  std::string checkpoint, input, output = "predictions.csv", metrics_path, device = "cpu";
  std::vector<std::string> read_settings;  // --set data.format=... / data.csv.*=...
  bool strict = true;
};

void add_options(CLI::App& app, PredictArguments& a) {
  app.add_option("--checkpoint", a.checkpoint,
                 "checkpoint directory, e.g. RUN_DIR/checkpoints/best; a run directory RUN_DIR means its best")
      ->required();
  app.add_option("--input", a.input, "table file, glob or dataset directory (CSV, .csv.gz, .csv.zst, Parquet) with the feature columns the model "
                 "was trained on, read as the training table was (its data.format and data.csv.*)")->required();
  app.add_option("--set", a.read_settings,
                 "how to read --input instead: data.format, data.csv.delimiter, data.csv.quote or data.csv.decimal, "
                 "e.g. --set data.csv.decimal=, (repeatable)");
  app.add_option("--output", a.output, "where to write the predictions")->capture_default_str();
  app.add_option("--metrics", a.metrics_path,
                 "where to write the metrics when the input holds the targets (default: OUTPUT with .metrics.json;\n"
                 "none when OUTPUT is a device, a FIFO or stdout). A symlink's target is written; an output that\n"
                 "is the input or a directory is refused");
  app.add_option("--strict", a.strict,
                 "require weights to match the model exactly (false: tolerate missing or extra names; shapes must "
                 "still match)")
      ->capture_default_str();
  app.add_option("--device", a.device, "cpu | cuda | auto")->check(CLI::IsMember(enum_choices<models::DeviceSetting>()))
      ->capture_default_str();
}

// A run directory stands for the model it keeps.
std::string checkpoint_of(const std::string& checkpoint) {
  if (const RunLayout run(checkpoint); !std::filesystem::exists(std::filesystem::path(checkpoint) / "state.json") &&
                                       std::filesystem::exists(run.best_checkpoint() / "state.json")) {
    std::cerr << "predict: --checkpoint is a run directory: using " << run.best_checkpoint().string() << std::endl;
    return run.best_checkpoint().string();
  }
  return checkpoint;
}

struct PredictOutputs {
  OutputTarget csv;
  std::filesystem::path metrics;  // empty: none
};

// Both outputs are checked before any work: neither may be an input, a directory or the other output.
PredictOutputs check_outputs(const PredictArguments& a) {
  auto inputs = data::expand_glob(a.input);
  inputs.emplace_back(a.checkpoint);
  PredictOutputs out{resolve_output_target(a.output, inputs), a.metrics_path};
  inputs.push_back(out.csv.path);  // an existing --output is as good as an input for --metrics
  // The default metrics file sits next to a file output; a device or stdout output has none.
  if (out.metrics.empty() && out.csv.mode == OutputTarget::Mode::kAtomicReplace) {
    out.metrics = std::filesystem::path(a.output).replace_extension(".metrics.json");
  }
  if (!out.metrics.empty() && std::filesystem::absolute(resolve_output_target(out.metrics, inputs).path).lexically_normal() ==
                                  std::filesystem::absolute(out.csv.path).lexically_normal()) {
    throw InputError("output " + out.metrics.string() + ": is the same file as --output " + a.output);
  }
  return out;
}

int predict(PredictArguments a) {
  a.checkpoint = checkpoint_of(a.checkpoint);
  const auto outputs = check_outputs(a);
  // Progress goes to stderr when the predictions themselves go to stdout.
  std::ostream& say = outputs.csv.descriptor == 1 ? std::cerr : std::cout;
  const auto read_as = infer::prediction_input(a.checkpoint, a.read_settings);
  const auto table = data::read_table(a.input, read_as.read, read_as.roles);
  infer::PredictOptions options;
  options.strict = a.strict;
  options.device = *parse_enum<models::DeviceSetting>(a.device);
  auto predictions = infer::predict_table(a.checkpoint, table, options);
  const auto meta = infer::read_checkpoint_meta(a.checkpoint);
  if (const auto splits = infer::training_splits(meta, a.input, read_as, table.values.size(0))) {
    infer::score_training_splits(*splits, predictions);
  }
  infer::write_prediction_rows(predictions, a.output);
  say << "predict: " << predictions.values.size(0) << " rows -> " << a.output << std::endl;
  for (const auto& line : infer::prediction_report_lines(predictions)) say << "predict: " << line << std::endl;
  if (predictions.metrics && !outputs.metrics.empty()) {
    infer::write_prediction_metrics(predictions, outputs.metrics);
    say << "predict: metrics -> " << outputs.metrics.string() << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ensure_passive_openmp(argv);
  CLI::App app{"safetrain predict: loads a checkpoint safely (memory check first, weights mapped to the CPU,\n"
               "eval mode, no grad), applies the stored feature scaling and writes one prediction row per\n"
               "input row: row_id,[id columns,]<target>_pred,... When the input holds the target columns it writes\n"
               "<target>_true beside each prediction and prints and writes the exact metrics (MSE, MAE, R2 per target).\n"
               "On the table the model was trained on (the files its checkpoint records) it says so, adds each row's\n"
               "split (train/val/test, as the trainer split them) and scores each split apart. A model trained with\n"
               "data.nan_policy: drop_rows skips rows with a missing feature and lists them.\n"
               "Exit codes: 0 ok, 2 bad input, 3 not enough memory."};
  PredictArguments arguments;
  add_options(app, arguments);
  SAFETRAIN_PARSE(app, argc, argv);
  return guarded_main("predict", [&] { return predict(arguments); });
}
