#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "safetrain/common/error.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/config/loader.hpp"
#include "../support/input_error_of.hpp"
#include "../support/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::config;

using safetrain::testing_support::input_error_of;

namespace {

const fs::path kConfigs = fs::path(SAFETRAIN_SOURCE_DIR) / "configs";

fs::path write_temp(const std::string& name, const std::string& text) {
  static const fs::path dir = safetrain::testing_support::scratch_dir("config_test");
  const fs::path file = dir / name;
  std::ofstream(file) << text;
  return file;
}

}  // namespace

TEST(Config, ShippedConfigsLoadWithSeedDefaults) {
  const auto safe = make_config(load_config(kConfigs / "safe_training.yaml").tree, "safe");
  EXPECT_EQ(safe.training.batch_size, 4);
  EXPECT_EQ(safe.training.accumulate_grad_batches, 4);
  EXPECT_EQ(safe.training.precision, models::Precision::fp16);
  EXPECT_DOUBLE_EQ(safe.training.gradient_clip_val, 0.5);
  EXPECT_EQ(safe.training.max_epochs, 50);
  EXPECT_EQ(safe.training.check_val_every_n_epoch, 2);
  EXPECT_EQ(safe.data.workers.num_workers, 2);
  EXPECT_EQ(safe.model.d_model, 512);
  EXPECT_EQ(safe.model.num_heads, 8);
  EXPECT_EQ(safe.model.num_layers, 4);
  EXPECT_EQ(safe.model.token_type, models::TokenType::patch);

  const auto quick = make_config(load_config(kConfigs / "quickstart.yaml").tree, "quick");
  EXPECT_EQ(quick.model.type, models::ModelFamily::mlp);
  EXPECT_EQ(quick.data.synthetic.rows, 30000);
  EXPECT_EQ(quick.memory.max_validation_outputs, 10000);  // inherited from the base
}

TEST(Config, UnknownKeyNamesLineColumnAndSuggestion) {
  const auto file = write_temp("typo.yaml", "training:\n  batch_sise: 8\n");
  const std::string message = input_error_of([&] { load_config(file); });
  EXPECT_NE(message.find("typo.yaml:2:3"), std::string::npos) << message;
  EXPECT_NE(message.find("training.batch_sise"), std::string::npos) << message;
  EXPECT_NE(message.find("batch_size"), std::string::npos) << message;
}

TEST(Config, WrongTypeAndOutOfRangeAreRejected) {
  const auto bad_type = write_temp("type.yaml", "training:\n  max_epochs: many\n");
  EXPECT_NE(input_error_of([&] { load_config(bad_type); }).find("training.max_epochs"), std::string::npos);
  const auto bad_range = write_temp("range.yaml", "training:\n  batch_size: 0\n");
  EXPECT_NE(input_error_of([&] { load_config(bad_range); }).find("range.yaml:2"), std::string::npos);
  const auto bad_choice = write_temp("choice.yaml", "training:\n  precision: \"8\"\n");
  EXPECT_NE(input_error_of([&] { load_config(bad_choice); }).find("bf16"), std::string::npos);
}

TEST(Config, OverridesApplyAndAreValidated) {
  const auto resolved = load_config(kConfigs / "quickstart.yaml", {parse_override("training.max_epochs=3"),
                                                                   parse_override("model.hidden=32")});
  const auto c = make_config(resolved.tree, "q");
  EXPECT_EQ(c.training.max_epochs, 3);
  EXPECT_EQ(c.model.hidden, 32);
  EXPECT_NE(input_error_of([&] { load_config(kConfigs / "quickstart.yaml", {parse_override("training.max_epoch=3")}); })
                .find("max_epochs"),
            std::string::npos);
  EXPECT_NE(input_error_of([&] { parse_override("training.max_epochs"); }).find("key=value"), std::string::npos);
}

// A one-character value is that character: YAML reads , ' " and | as nothing (an empty quote meant no quoting).
TEST(Config, AOneCharacterOverrideIsThatCharacter) {
  const auto resolved = load_config(kConfigs / "quickstart.yaml",
                                    {parse_override("data.csv.delimiter=|"), parse_override("data.csv.quote='"),
                                     parse_override("data.csv.decimal=,"), parse_override("training.max_epochs=7")});
  const auto c = make_config(resolved.tree, "q");
  EXPECT_EQ(c.data.read.csv.delimiter, "|");
  EXPECT_EQ(c.data.read.csv.quote, "'");
  EXPECT_EQ(c.data.read.csv.decimal, ",");
  EXPECT_EQ(c.training.max_epochs, 7);
  const auto quote = load_config(kConfigs / "quickstart.yaml", {parse_override("data.csv.quote=\"")});
  EXPECT_EQ(make_config(quote.tree, "q").data.read.csv.quote, "\"");
}

TEST(Config, CrossKeyRulesNameTheKeys) {
  const auto file = write_temp("fractions.yaml", "data:\n  train_fraction: 0.9\n  val_fraction: 0.2\n");
  const std::string message = input_error_of([&] { make_config(load_config(file).tree, file.string()); });
  EXPECT_NE(message.find("data.train_fraction"), std::string::npos) << message;
  const auto csv = write_temp("csv.yaml", "data:\n  source: csv\n");
  EXPECT_NE(input_error_of([&] { make_config(load_config(csv).tree, csv.string()); }).find("data.path"), std::string::npos);
  // The same rule (models::heads_width_problem) as a transformer's own validation.
  const auto heads = write_temp("heads.yaml", "model:\n  type: transformer\n  d_model: 512\n  num_heads: 5\n");
  const std::string heads_message = input_error_of([&] { make_config(load_config(heads).tree, heads.string()); });
  EXPECT_NE(heads_message.find("model.num_heads: must divide model.d_model (512 % 5 != 0)"), std::string::npos)
      << heads_message;
}

TEST(Config, PrintedConfigResolvesToTheSameTree) {
  const auto first = load_config(kConfigs / "quickstart.yaml");
  const std::string printed = to_yaml(first.tree);
  const auto second = resolve_from_text(printed, "printed");
  EXPECT_EQ(to_yaml(second.tree), printed);
}

TEST(Config, MissingFileAndBadYamlAreInputErrors) {
  EXPECT_NE(input_error_of([] { load_config("/nonexistent/safetrain.yaml"); }).find("/nonexistent/safetrain.yaml"),
            std::string::npos);
  const auto broken = write_temp("broken.yaml", "training: [1, 2\n");
  EXPECT_NE(input_error_of([&] { load_config(broken); }).find("broken.yaml"), std::string::npos);
}

TEST(Config, RepeatedKeyOrSectionIsAnErrorNotASilentDrop) {
  // Regression: yaml-cpp kept the first of two `training:` sections and dropped the second without a word.
  const auto file = write_temp("twice.yaml", "training:\n  max_epochs: 2\nmodel:\n  hidden: 8\ntraining:\n  lr: 0.1\n");
  const std::string message = input_error_of([&] { load_config(file); });
  EXPECT_NE(message.find("twice.yaml:5:1"), std::string::npos) << message;
  EXPECT_NE(message.find("appears twice"), std::string::npos) << message;
}

TEST(Config, TableFormatAndCsvDialectAreDeclaredAndChecked) {
  const auto ok = write_temp("dialect.yaml", "data:\n  format: parquet\n  csv:\n    delimiter: tab\n    quote: \"'\"\n");
  const auto c = make_config(load_config(ok).tree, ok.string());
  EXPECT_EQ(c.data.read.format, data::TableFormat::parquet);
  EXPECT_EQ(c.data.read.csv.delimiter, "tab");
  EXPECT_EQ(c.data.read.csv.quote, "'");
  EXPECT_EQ(make_config(load_config(kConfigs / "quickstart.yaml").tree, "q").data.read.csv.delimiter, "auto");
  const auto long_delimiter = write_temp("delimiter.yaml", "data:\n  csv:\n    delimiter: \";;\"\n");
  EXPECT_NE(input_error_of([&] { make_config(load_config(long_delimiter).tree, "d"); }).find("data.csv.delimiter"),
            std::string::npos);
  const auto same = write_temp("same.yaml", "data:\n  csv:\n    delimiter: \";\"\n    quote: \";\"\n");
  EXPECT_NE(input_error_of([&] { make_config(load_config(same).tree, "s"); }).find("data.csv.quote"), std::string::npos);
  const auto format = write_temp("format.yaml", "data:\n  format: xlsx\n");
  EXPECT_NE(input_error_of([&] { load_config(format); make_config(load_config(format).tree, "f"); }).find("data.format"),
            std::string::npos);
}

namespace {

// Every leaf of `expected` (a resolved config written before the built-in defaults changed) must resolve to the
// same text now; keys added since then are not in the fixture and are free.
void expect_leaves_equal(const YAML::Node& expected, const YAML::Node& actual, const std::string& path,
                         int& compared) {
  if (expected.IsMap()) {
    for (const auto& entry : expected) {
      const auto key = entry.first.as<std::string>();
      const std::string child = path.empty() ? key : path + "." + key;
      ASSERT_TRUE(actual[key].IsDefined()) << child << " is gone from the resolved config";
      expect_leaves_equal(entry.second, actual[key], child, compared);
    }
    return;
  }
  ++compared;
  EXPECT_EQ(to_yaml(expected), to_yaml(actual)) << path;
}

}  // namespace

// Issue 26 item 11: the built-in defaults now fit a tabular user; the seed's GPU profile must still resolve
// exactly as it did (the fixture is `trainer --config configs/safe_training.yaml --print-config` at 4e3bdfd).
TEST(Config, SafeTrainingProfileResolvesAsBeforeTheDefaultsChanged) {
  const auto safe = make_config(load_config(kConfigs / "safe_training.yaml").tree, "safe");
  const auto resolved = YAML::Load(typed_yaml(safe));
  const auto fixture =
      YAML::LoadFile((fs::path(SAFETRAIN_TEST_DATA_DIR) / "config" / "safe_training_resolved.yaml").string());
  int compared = 0;
  expect_leaves_equal(fixture, resolved, "", compared);
  EXPECT_GT(compared, 100);
}

TEST(Config, ACsvAndItsTargetsGetTabularDefaults) {
  const auto file = write_temp("own.yaml", "data:\n  source: csv\n  path: table.csv\n  targets: [y]\n");
  const auto config = make_config(load_config(file).tree, "own");
  EXPECT_EQ(config.model.type, models::ModelFamily::mlp);
  EXPECT_EQ(config.model.hidden, 256);
  EXPECT_EQ(config.model.mlp_layers, 3);
  EXPECT_EQ(config.training.batch_size, 128);
  EXPECT_EQ(config.training.accumulate_grad_batches, 1);
  EXPECT_DOUBLE_EQ(config.training.lr, 2e-3);
  EXPECT_EQ(config.training.patience, 10);
  EXPECT_LE(config.training.max_epochs, 100);
  EXPECT_EQ(config.training.check_val_every_n_epoch, 1);
  EXPECT_EQ(config.training.precision, models::Precision::fp32);
}

// Issue 26 item 10: the own-split columns are for tables held in memory; the config says so before any read.
TEST(Config, OwnSplitColumnsAreRefusedWithMmapAndTogether) {
  const std::string base = "data:\n  source: csv\n  path: table.csv\n  targets: [y]\n";
  const auto mmap = write_temp("own_mmap.yaml", base + "  storage: mmap\n  split_column: fold\n");
  const std::string message = input_error_of([&] { make_config(load_config(mmap).tree, "own_mmap.yaml"); });
  EXPECT_NE(message.find("data.split_column: not supported with data.storage: mmap"), std::string::npos) << message;
  const auto group_mmap = write_temp("group_mmap.yaml", base + "  storage: mmap\n  group_column: scaffold\n");
  EXPECT_NE(input_error_of([&] { make_config(load_config(group_mmap).tree, "g"); }).find("data.group_column"),
            std::string::npos);
  const auto both = write_temp("own_both.yaml", base + "  split_column: fold\n  group_column: scaffold\n");
  EXPECT_NE(input_error_of([&] { make_config(load_config(both).tree, "b"); }).find("set one of them"),
            std::string::npos);
  const auto fine = write_temp("own_fine.yaml", base + "  group_column: scaffold\n");
  EXPECT_EQ(make_config(load_config(fine).tree, "f").data.split.group_column, "scaffold");
}
