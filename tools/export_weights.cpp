// export_weights: a checkpoint's model as one self-describing file Python opens with torch alone.
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <iostream>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/output_file.hpp"
#include "safetrain/infer/inference_model.hpp"
#include "safetrain/infer/model_export.hpp"
#include "safetrain/models/state_dict.hpp"

using namespace safetrain;

int main(int argc, char** argv) {
  CLI::App app{"safetrain export_weights: rebuilds the model of a checkpoint, loads its weights (strict) and\n"
               "writes one file that torch.load(path, weights_only=True) opens: the weights, the architecture\n"
               "(family, sizes, activation), the feature names in input order, the target names, the scaling\n"
               "(feature and target means/stds) and the NaN policy. python/safetrain_model.py (torch only)\n"
               "rebuilds the model and predicts in target units:\n"
               "  model = safetrain_model.load('model.pt'); model.predict(pandas.read_csv('table.csv'))"};
  std::string checkpoint, output = "model.pt";
  bool weights_only = false;
  app.add_option("--checkpoint", checkpoint, "checkpoint directory, e.g. RUN_DIR/checkpoints/best")->required();
  app.add_option("--output", output,
                 "file to write (a symlink's target is written, a device or FIFO in place; a directory or a file\n"
                 "of the checkpoint is refused)")
      ->capture_default_str();
  app.add_flag("--weights-only", weights_only,
               "write only the name -> tensor dictionary (model.load_state_dict(torch.load(path)))");
  SAFETRAIN_PARSE(app, argc, argv);
  return guarded_main("export_weights", [&] {
    resolve_output_target(output, {checkpoint});  // refused before the work, not after
    const auto loaded = infer::load_for_inference(checkpoint, models::DeviceSetting::cpu, /*strict=*/true);
    if (weights_only) {
      models::save_state_dict(*loaded.model, output);
    } else {
      infer::export_model(loaded, output);
    }
    std::cout << "export_weights: " << output << std::endl;
    return 0;
  });
}
