// export_weights: a checkpoint's model as a tensor dictionary Python's torch.load opens.
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <iostream>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/models/export.hpp"
#include "safetrain/train/checkpoint.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/train/model_from_config.hpp"
#include "safetrain/train/state_dict.hpp"

using namespace safetrain;

int main(int argc, char** argv) {
  CLI::App app{"safetrain export_weights: rebuilds the model of a checkpoint, loads its weights (strict) and\n"
               "writes them as a name -> tensor dictionary for Python:\n"
               "  state = torch.load('weights.pt'); model.load_state_dict(state)"};
  std::string checkpoint, output = "weights.pt";
  app.add_option("--checkpoint", checkpoint, "checkpoint directory, e.g. RUN_DIR/checkpoints/best")->required();
  app.add_option("--output", output, "file to write")->capture_default_str();
  SAFETRAIN_PARSE(app, argc, argv);
  return guarded_main("export_weights", [&] {
    const auto meta = train::read_checkpoint_meta(checkpoint);
    const auto resolved = config::resolve_from_text(meta.config_yaml, checkpoint + "/config.yaml");
    const auto config = config::make_config(resolved.tree, resolved.file.string());
    const auto spec = train::model_spec_from(config, static_cast<int64_t>(meta.feature_names().size()),
                                             meta.target_names());
    auto model = train::build_checked_model(spec, config, torch::kCPU, /*training=*/false);
    train::load_state_dict(*model, std::filesystem::path(checkpoint) / "model.pt", /*strict=*/true);
    models::export_state_dict(*model, output);
    std::cout << "export_weights: " << output << std::endl;
    return 0;
  });
}
