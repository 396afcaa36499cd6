// Issue 27 item 4: what a run writes (config.yaml, each checkpoint's config, the ranks' agreement record) is
// config::typed_yaml of the typed config. It must hold every schema key and read back to an equal config.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "safetrain/common/text.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/config/schema.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::config;

namespace {

const fs::path kTypedConfigs = fs::path(SAFETRAIN_SOURCE_DIR) / "configs";

YAML::Node typed_leaf(const YAML::Node& tree, const std::string& path) {
  YAML::Node current = tree;
  for (const auto& part : text::split(path, '.')) current.reset(current[part]);
  return current;
}

size_t count_typed_leaves(const YAML::Node& node) {
  if (!node.IsMap()) return 1;
  size_t leaves = 0;
  for (const auto& entry : node) leaves += count_typed_leaves(entry.second);
  return leaves;
}

// Every bound member compared, through the schema's own reader of each.
void expect_same_config(const Config& expected, const Config& actual) {
  for (const auto& spec : config_schema()) {
    EXPECT_EQ(to_yaml(spec.write(expected)), to_yaml(spec.write(actual))) << spec.path;
  }
}

Config read_back(const Config& config) {
  return make_config(resolve_from_text(typed_yaml(config), "typed_yaml").tree, "typed_yaml");
}

// A value other than the default for every test hook, so each must be written.
const std::vector<Override> kEveryHookSet = {
    {"debug.plant_leak_mb_per_epoch", "4"}, {"debug.sigint_at_batch", "3"},   {"debug.sigint_at_test", "true"},
    {"debug.sigint_at_validation", "2"},    {"debug.sigterm_at_batch", "5"},  {"debug.signal_rank", "1"},
    {"debug.inject_oom_at_step", "2"},      {"debug.inject_eval_oom", "true"}};

}  // namespace

TEST(TypedYaml, ShippedConfigsAndTheResolvedFixtureReadBackEqual) {
  const std::vector<fs::path> files = {kTypedConfigs / "safe_training.yaml", kTypedConfigs / "quickstart.yaml",
                                       fs::path(SAFETRAIN_TEST_DATA_DIR) / "config" / "safe_training_resolved.yaml"};
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    const auto loaded = make_config(load_config(file).tree, file.string());
    expect_same_config(loaded, read_back(loaded));
  }
}

// A key left out of the serialiser would read back as its default: the written tree must hold each schema key
// (test hooks once they are set) and nothing else.
TEST(TypedYaml, WritesEverySchemaKeyOnce) {
  const auto hooked = make_config(load_config(kTypedConfigs / "quickstart.yaml", kEveryHookSet).tree, "hooked");
  const YAML::Node written = typed_tree(hooked);
  for (const auto& spec : config_schema()) {
    EXPECT_TRUE(typed_leaf(written, spec.path).IsDefined()) << spec.path << " is not written";
  }
  EXPECT_EQ(count_typed_leaves(written), config_schema().size());
  expect_same_config(hooked, read_back(hooked));
  EXPECT_EQ(read_back(hooked).debug.sigint_at_batch, 3);
}

// Test hooks at their defaults stay out of what an ordinary run writes (and of --print-config).
TEST(TypedYaml, UnsetTestHooksAreNotWritten) {
  const auto plain = make_config(load_config(kTypedConfigs / "quickstart.yaml").tree, "plain");
  const YAML::Node written = typed_tree(plain);
  EXPECT_FALSE(written["debug"].IsDefined());
  size_t documented = 0;
  for (const auto& spec : config_schema()) documented += spec.hidden ? 0 : 1;
  EXPECT_EQ(count_typed_leaves(written), documented);
}

// Values set in the typed config after loading (the trainer's chosen features) are what is written.
TEST(TypedYaml, AValueSetOnTheTypedConfigIsWritten) {
  auto config = make_config(load_config(kTypedConfigs / "quickstart.yaml").tree, "features");
  config.data.features = {"x_a", "x_b"};
  config.training.lr = 0.00031;
  const auto back = read_back(config);
  EXPECT_EQ(back.data.features, (std::vector<std::string>{"x_a", "x_b"}));
  EXPECT_DOUBLE_EQ(back.training.lr, 0.00031);
  EXPECT_NE(typed_yaml(config).find("features: [x_a, x_b]"), std::string::npos) << typed_yaml(config);
}
