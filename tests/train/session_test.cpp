// The training session in-process: bounded buffers over many epochs, the
// planted leak, and learning (validation loss below the mean predictor).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "safetrain/config/loader.hpp"
#include "safetrain/train/session.hpp"

namespace fs = std::filesystem;
using namespace safetrain::train;
namespace config = safetrain::config;

namespace {

config::Config small_config(const std::string& name, std::vector<config::Override> extra = {}) {
  const fs::path out = fs::path(SAFETRAIN_BINARY_DIR) / "session-test" / name;
  fs::remove_all(out);
  std::vector<config::Override> sets = {
      {"output.dir", out.string()},         {"output.run_name", "run"},
      {"data.synthetic.rows", "1200"},      {"data.synthetic.descriptor_columns", "12"},
      {"data.num_workers", "1"},            {"model.hidden", "32"},
      {"training.threads", "1"},            {"training.early_stopping", "false"},
      {"memory.max_validation_outputs", "50"}, {"monitor.interval_ms", "50"},
      {"logging.progress", "off"},
  };
  sets.insert(sets.end(), extra.begin(), extra.end());
  const auto resolved = config::load_config(fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml", sets);
  return config::make_config(resolved.tree, "test");
}

}  // namespace

TEST(Session, TwentyEpochsKeepTheValidationBufferAtItsCap) {
  TrainingSession session(small_config("soak", {{"training.max_epochs", "20"}}), {});
  session.setup();
  int64_t largest_bytes = 0;
  for (int64_t epoch = 0; epoch < 20; ++epoch) {
    const auto r = session.run_epoch(epoch, true);
    EXPECT_EQ(r.val_buffer_size, 50) << "epoch " << epoch;
    largest_bytes = std::max(largest_bytes, r.val_buffer_bytes);
  }
  // predictions + targets (6 floats each) + row ids (int64) for 50 rows, and nothing more.
  EXPECT_LE(largest_bytes, 50 * (6 * 4 * 2 + 8));
}

TEST(Session, QuickstartShapeLearnsBetterThanTheMean) {
  TrainingSession session(small_config("learns", {{"training.max_epochs", "6"}, {"data.synthetic.rows", "3000"}}), {});
  session.setup();
  const auto outcome = session.run();
  EXPECT_EQ(outcome.end, RunEnd::completed);
  std::ifstream in(outcome.run_dir / "metrics.json");
  const auto metrics = nlohmann::json::parse(in);
  // R² > 0 on every target means a lower MSE than predicting the mean.
  for (const auto& [name, target] : metrics["val"]["targets"].items()) {
    EXPECT_GT(target["r2"].get<double>(), 0.0) << name;
  }
}

// Issue 27 item 4: config.yaml is written from the typed config; once the data module has chosen the features
// (the config said `features: []`), the file names them, in the order features.json lists them.
TEST(Session, RunConfigYamlNamesTheAdoptedFeatures) {
  const auto given = small_config("adopted");
  ASSERT_TRUE(given.data.features.empty());
  TrainingSession session(given, {});
  session.setup();
  const auto text = [](const fs::path& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const auto saved = config::resolve_from_text(text(session.run_dir() / "config.yaml"), "config.yaml");
  const auto written = config::make_config(saved.tree, "config.yaml");
  const auto chosen = nlohmann::json::parse(text(session.run_dir() / "features.json"))["features"];
  ASSERT_FALSE(chosen.empty());
  EXPECT_EQ(written.data.features, chosen.get<std::vector<std::string>>());
  EXPECT_EQ(written.model.hidden, 32);  // the rest of the typed config is there too
}
