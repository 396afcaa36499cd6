// The schema table is the one declaration of every key: defaults come from the
// options structs, ranges and parsing from the table, docs from both.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <type_traits>

#include "safetrain/common/error.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/config/derived.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/config/schema.hpp"
#include "../support/input_error_of.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::config;

using safetrain::testing_support::input_error_of;

namespace {

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("safetrain-schema-" + std::to_string(::getpid()) + "-" +
                                                 std::to_string(counter_++))) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
    return path_ / name;
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

Config from_text(const std::string& yaml, const std::vector<Override>& overrides = {}) {
  return make_config(resolve_from_text(yaml, "test.yaml", overrides).tree, "test.yaml");
}

}  // namespace

TEST(Schema, EveryPrintedDefaultIsTheOptionsStructsDefault) {
  const Config defaults;
  const Config loaded = from_text("");
  for (const auto& spec : config_schema()) {
    EXPECT_EQ(to_yaml(spec.write(loaded)), to_yaml(spec.write(defaults))) << spec.path;
    EXPECT_EQ(to_yaml(resolve_from_text("", "t").tree), to_yaml(resolve_from_text("", "t").tree));
  }
}

TEST(Schema, DescriptorDefaultsAreTheOnesTheTrainerAlwaysUsed) {
  // Regression: DescriptorOptions said 4096 / 1e-8 / 1000 while the schema said 8192 / 1e-10 / 512, so
  // descriptor_pipeline outside the repository root pruned differently (165 vs 158 columns kept).
  const data::descriptors::DescriptorOptions library_defaults;
  const Config loaded = from_text("");
  EXPECT_EQ(loaded.descriptors.batch_rows, library_defaults.batch_rows);
  EXPECT_EQ(loaded.descriptors.batch_rows, 8192);
  EXPECT_DOUBLE_EQ(loaded.descriptors.min_variance, 1e-10);
  EXPECT_EQ(loaded.descriptors.hsic_sample_rows, 512);
  const auto printed = to_yaml(resolve_from_text("", "t").tree);
  EXPECT_NE(printed.find("hsic_sample_rows: 512"), std::string::npos) << printed;
}

TEST(Schema, ToolAndTrainerGetIdenticalDescriptorOptionsFromOneFile) {
  TempDir dir;
  const auto file = dir.write("c.yaml", "data:\n  targets: target_\ndescriptors:\n  rdc_k: 7\n  hsic_sample_rows: 300\n");
  const auto config = make_config(load_config(file).tree, file.string());
  const std::vector<std::string> columns = {"a", "target_x", "b", "target_y"};
  const auto o = descriptor_options(config, columns, "t.csv");
  EXPECT_EQ(o.rdc_k, 7);
  EXPECT_EQ(o.hsic_sample_rows, 300);
  EXPECT_EQ(o.targets, (std::vector<std::string>{"target_x", "target_y"}));
  EXPECT_EQ(o.seed, config.seed);
}

// The schema binds keys by hand; these sections must name exactly the fields their options' lists write.
TEST(Schema, DescriptorAndModelKeysAreTheFieldListsOfTheirOptions) {
  const auto keys_under = [](const std::string& section) {
    std::set<std::string> keys;
    for (const auto& spec : config_schema()) {
      if (spec.path.rfind(section + ".", 0) == 0) keys.insert(spec.path.substr(section.size() + 1));
    }
    return keys;
  };
  std::set<std::string> descriptor_fields;
  const data::descriptors::DescriptorOptions descriptor_defaults;
  for_each_field(descriptor_defaults, [&](const char* name, const auto&, auto tag) {
    if (!std::is_same_v<decltype(tag), fields::Transient>) descriptor_fields.insert(name);
  });
  // Not keys: the run's seed and the table's targets reach the pruner through descriptor_options.
  for (const char* from_the_run : {"seed", "targets"}) EXPECT_EQ(descriptor_fields.erase(from_the_run), 1u);
  EXPECT_EQ(keys_under("descriptors"), descriptor_fields);
  const auto model_fields = fields::field_names(models::ModelOptions{});
  EXPECT_EQ(keys_under("model"), std::set<std::string>(model_fields.begin(), model_fields.end()));
}

TEST(Schema, ZeroLeidenResolutionIsRefusedWithFileLineAndKey) {
  // Regression: the schema accepted 0 and the pruner refused it later, with no file:line.
  TempDir dir;
  const auto file = dir.write("leiden.yaml", "descriptors:\n  leiden_resolution: 0\n");
  const std::string message = input_error_of([&] { load_config(file); });
  EXPECT_NE(message.find("leiden.yaml:2:22"), std::string::npos) << message;
  EXPECT_NE(message.find("descriptors.leiden_resolution"), std::string::npos) << message;
  EXPECT_NE(message.find("> 0"), std::string::npos) << message;
}

TEST(Schema, PrunerThresholdsOutOfRangeNameTheirKey) {
  // Moved here from the pruner's own checks: ranges live in the schema table only.
  EXPECT_NE(input_error_of([] { from_text("descriptors:\n  spearman_threshold: 1.5\n"); }).find("descriptors.spearman_threshold"),
            std::string::npos);
  EXPECT_NE(input_error_of([] { from_text("descriptors:\n  hsic_threshold: -0.1\n"); }).find("descriptors.hsic_threshold"),
            std::string::npos);
  EXPECT_NE(input_error_of([] { from_text("descriptors:\n  nan_policy: zero\n"); }).find("descriptors.nan_policy"),
            std::string::npos);
}

TEST(Schema, IntegersAreDecimalForValidationAndUse) {
  // Regression: `010` validated as 10 and trained as 8 (yaml-cpp reads a leading 0 as octal).
  EXPECT_EQ(from_text("training:\n  max_epochs: 010\n").training.max_epochs, 10);
  EXPECT_EQ(from_text("training:\n  max_epochs: 08\n").training.max_epochs, 8);
  EXPECT_NE(input_error_of([] { from_text("training:\n  max_epochs: 0x10\n"); }).find("training.max_epochs"),
            std::string::npos);
}

TEST(Schema, EnumsAreParsedAtLoadTime) {
  const auto c = from_text("training:\n  scheduler: plateau\n  on_nan: skip\n  threads: 3\nmodel:\n  type: mlp\n");
  EXPECT_EQ(c.training.scheduler, train::Scheduler::plateau);
  EXPECT_EQ(c.training.on_nan, train::OnNan::skip);
  EXPECT_EQ(c.training.threads.value, 3);
  EXPECT_EQ(c.model.type, models::ModelFamily::mlp);
  EXPECT_TRUE(from_text("").training.threads.is_auto());
  EXPECT_EQ(from_text("data:\n  nan_policy: error\n").data.split.nan_policy, data::NanPolicy::error);
  EXPECT_NE(input_error_of([] { from_text("data:\n  nan_policy: sometimes\n"); }).find("data.nan_policy"),
            std::string::npos);
}

TEST(Schema, EmptyDirectoryAndBlankExtendsConfigsAreRefusedByName) {
  TempDir dir;
  EXPECT_NE(input_error_of([&] { load_config(dir.write("empty.yaml", "# only a comment\n")); }).find("empty.yaml"),
            std::string::npos);
  EXPECT_NE(input_error_of([&] { load_config(dir.path()); }).find("is a directory"), std::string::npos);
  const auto blank = dir.write("blank.yaml", "extends: \"\"\ntraining:\n  lr: 0.1\n");
  EXPECT_NE(input_error_of([&] { load_config(blank); }).find("extends"), std::string::npos);
  const auto to_dir = dir.write("todir.yaml", "extends: .\n");
  EXPECT_NE(input_error_of([&] { load_config(to_dir); }).find("is a directory"), std::string::npos);
}

TEST(Schema, CommandLineMistakesSayWhatIsWrong) {
  EXPECT_NE(input_error_of([] { from_text("", {parse_override("training=3")}); }).find("is a section"), std::string::npos);
  EXPECT_NE(input_error_of([] { from_text("", {parse_override("training.lr=")}); }).find("got nothing"),
            std::string::npos);
  EXPECT_NE(input_error_of([] { from_text("", {parse_override("training.epochs=3")}); }).find("training.max_epochs"),
            std::string::npos);
}

// A path named after (or without) any data.source means the table; a synthetic source said with or after the
// path is refused: safetrain never trains on its synthetic data when a file was named.
TEST(Schema, PathWithoutCsvSourceNeverTrainsOnSyntheticData) {
  EXPECT_EQ(from_text("data:\n  path: mine.csv\n").data.source, data::DataSource::csv);
  EXPECT_EQ(from_text("data:\n  source: csv\n  path: mine.csv\n").data.source, data::DataSource::csv);
  EXPECT_EQ(from_text("data:\n  source: synthetic\n", {parse_override("data.path=mine.csv")}).data.source,
            data::DataSource::csv);
  EXPECT_EQ(from_text("data:\n  source: synthetic\n").data.source, data::DataSource::synthetic);
  EXPECT_EQ(from_text("data:\n  source: synthetic\n", {parse_override("data.path=")}).data.source,
            data::DataSource::synthetic);
  for (const auto& refused : {input_error_of([] { from_text("data:\n  source: synthetic\n  path: mine.csv\n"); }),
                              input_error_of([] {
                                from_text("data:\n  path: mine.csv\n", {parse_override("data.source=synthetic")});
                              })}) {
    EXPECT_NE(refused.find("data.path is set (mine.csv) but data.source is synthetic"), std::string::npos) << refused;
  }
}

TEST(Schema, ReadmeKeyTableIsTheGeneratedOne) {
  std::ifstream in(fs::path(SAFETRAIN_SOURCE_DIR) / "README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const std::string begin = "<!-- config-keys:begin (generated by `trainer --list-keys`) -->\n";
  const auto start = readme.find(begin);
  const auto end = readme.find("<!-- config-keys:end -->");
  ASSERT_NE(start, std::string::npos) << "README.md has no generated key table";
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(readme.substr(start + begin.size(), end - start - begin.size()), markdown_key_table())
      << "regenerate the README table: build/tools/trainer --list-keys";
}
