// export_weights: a checkpoint's model as a tensor dictionary Python's torch.load opens.
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <iostream>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/common/output_file.hpp"
#include "safetrain/infer/inference_model.hpp"
#include "safetrain/models/state_dict.hpp"

using namespace safetrain;

int main(int argc, char** argv) {
  CLI::App app{"safetrain export_weights: rebuilds the model of a checkpoint, loads its weights (strict) and\n"
               "writes them as a name -> tensor dictionary for Python:\n"
               "  state = torch.load('weights.pt'); model.load_state_dict(state)"};
  std::string checkpoint, output = "weights.pt";
  app.add_option("--checkpoint", checkpoint, "checkpoint directory, e.g. RUN_DIR/checkpoints/best")->required();
  app.add_option("--output", output,
                 "file to write (a symlink's target is written, a device or FIFO in place; a directory or a file\n"
                 "of the checkpoint is refused)")
      ->capture_default_str();
  SAFETRAIN_PARSE(app, argc, argv);
  return guarded_main("export_weights", [&] {
    resolve_output_target(output, {checkpoint});  // refused before the work, not after
    const auto loaded = infer::load_for_inference(checkpoint, models::DeviceSetting::cpu, /*strict=*/true);
    models::save_state_dict(*loaded.model, output);
    std::cout << "export_weights: " << output << std::endl;
    return 0;
  });
}
