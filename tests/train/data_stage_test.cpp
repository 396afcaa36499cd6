// The trainer's descriptor stage: training rows only, and a cached result reused.
#include <gtest/gtest.h>

#include "safetrain/config/loader.hpp"
#include "safetrain/train/data_stage.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::train;

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
