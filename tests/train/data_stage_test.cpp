// The data module: its descriptor stage sees training rows only and reuses its cached result; one call gives
// the splits and loaders, and a second rank takes rank 0's selection.
#include <gtest/gtest.h>

#include <fstream>

#include "safetrain/config/loader.hpp"
#include "safetrain/data/data_module.hpp"
#include "safetrain/data/feature_selection.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::data;

namespace {

config::Config stage_config(const fs::path& out) {
  const auto resolved = config::load_config(fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml",
                                    {{"output.dir", out.string()}, {"data.targets", "[y]"},
                                     {"descriptors.hsic", "false"}, {"descriptors.rdc", "false"}});
  return config::make_config(resolved.tree, "test");
}

}  // namespace

TEST(DescriptorStage, SeesTrainingRowsOnlyAndReusesItsCache) {
  const fs::path out = fs::path(SAFETRAIN_BINARY_DIR) / "data-stage-test";
  fs::remove_all(out);
  const auto config = stage_config(out);
  torch::manual_seed(0);
  const int64_t rows = 1000;
  data::Table table;
  table.columns = {"signal", "leaky", "y"};
  table.source = "test";
  const auto signal = torch::randn({rows});
  // `leaky` is constant on the training rows and informative elsewhere: only a pipeline that
  // looked at validation or test rows would keep it.
  auto leaky = torch::randn({rows});
  data::SplitOptions split_options;
  split_options.seed = config.seed;
  const auto split = data::split_indices(rows, split_options);
  leaky.index_fill_(0, split.train, 0.0);
  table.values = torch::stack({signal, leaky, signal * 2 + 0.1 * torch::randn({rows})}, 1);

  const auto cache = out / "cache";
  const auto first = select_features(config, table, cache);
  EXPECT_EQ(first.features, (std::vector<std::string>{"signal"})) << first.summary;
  const auto second = select_features(config, table, cache);
  EXPECT_EQ(second.features, first.features);
  EXPECT_NE(second.summary.find("cached"), std::string::npos) << second.summary;
}

namespace {

config::Config data_module_config(const fs::path& out) {
  const auto resolved = config::load_config(fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml",
                                            {{"output.dir", out.string()}, {"data.synthetic.rows", "600"},
                                             {"descriptors.enabled", "false"}, {"data.synthetic.descriptor_columns", "0"},
                                             {"data.num_workers", "0"}});
  return config::make_config(resolved.tree, "test");
}

}  // namespace

TEST(DataModule, OneCallGivesTheSplitsTheirLoadersAndFeaturesJson) {
  const fs::path out = fs::path(SAFETRAIN_BINARY_DIR) / "data-module-test";
  fs::remove_all(out);
  fs::create_directories(out);
  DataModuleContext context;
  context.features_json = out / "features.json";
  const auto run = prepare_run_data(data_module_config(out), context);
  const auto& d = run.prepared;
  EXPECT_EQ(d.train.size() + d.val.size() + d.test.size(), 600);
  ASSERT_TRUE(run.train_loader && run.val_loader && run.test_loader);
  EXPECT_EQ(run.selection.selected_by, "every column");
  std::ifstream in(context.features_json);
  const auto features = nlohmann::json::parse(in);
  EXPECT_EQ(features.at("features").get<std::vector<std::string>>(), d.feature_names);
  EXPECT_EQ(features.at("targets").get<std::vector<std::string>>(), d.target_names);
}

TEST(DataModule, AnotherRankTakesRankZerosSelectionAndServesItsShard) {
  const fs::path out = fs::path(SAFETRAIN_BINARY_DIR) / "data-module-rank-test";
  fs::remove_all(out);
  fs::create_directories(out);
  const auto config = data_module_config(out);
  const auto alone = prepare_run_data(config, {});
  const std::vector<std::string> chosen(alone.prepared.feature_names.begin(), alone.prepared.feature_names.begin() + 3);
  DataModuleContext context;
  context.ranks.rank = 1;
  context.ranks.world_size = 2;
  std::vector<std::string> asked;
  context.ranks.share_from_writer = [&](const std::string& key, const std::function<std::string()>&) {
    asked.push_back(key);  // rank 0's answer; this rank never computes
    return to_text(FeatureSelection{chosen, "chosen by rank 0", "data.features"});
  };
  context.features_json = out / "features.json";
  const auto rank1 = prepare_run_data(config, context);
  EXPECT_EQ(asked, (std::vector<std::string>{"feature_selection"}));
  EXPECT_EQ(rank1.prepared.feature_names, chosen);
  EXPECT_EQ(rank1.selection.summary, "chosen by rank 0");
  EXPECT_FALSE(fs::exists(context.features_json)) << "rank 0 alone writes run files";
  EXPECT_LT(rank1.train_loader->batches_per_epoch(), alone.train_loader->batches_per_epoch());
}
