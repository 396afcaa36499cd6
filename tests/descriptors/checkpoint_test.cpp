#include <gtest/gtest.h>

#include "known_tables.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"
#include "../support/scratch_dir.hpp"

using namespace safetrain::data::descriptors;

namespace {
struct Interrupted {};
}  // namespace

TEST(Checkpoints, InterruptedRunResumesAfterTheLastFinishedPass) {
  const auto dir = safetrain::testing_support::scratch_dir("descriptor_resume");
  DescriptorOptions o;
  o.targets = {"target"};
  o.hsic_threshold = 0.25;
  const auto reference = [&] {
    auto source = known_tables::redundant_table(400);
    return run_pipeline(source, o);
  }();

  o.checkpoint_dir = dir;
  std::vector<int> finished;
  o.on_pass_finished = [&](const nlohmann::json& entry) {
    finished.push_back(entry["pass"].get<int>());
    if (entry["pass"] == 2) throw Interrupted{};  // killed right after pass 2 was written
  };
  {
    auto source = known_tables::redundant_table(400);
    EXPECT_THROW(run_pipeline(source, o), Interrupted);
  }
  EXPECT_EQ(finished, (std::vector<int>{1, 2}));
  EXPECT_TRUE(std::filesystem::exists(dir / "pass_2.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "pass_3.json"));

  finished.clear();
  o.on_pass_finished = [&](const nlohmann::json& entry) { finished.push_back(entry["pass"].get<int>()); };
  auto source = known_tables::redundant_table(400);
  const auto resumed = run_pipeline(source, o);
  EXPECT_EQ(finished, (std::vector<int>{3, 4}));  // only the passes after the last finished one ran
  EXPECT_EQ(resumed.kept_columns, reference.kept_columns);
  EXPECT_EQ(resumed.decisions.size(), reference.decisions.size());
  EXPECT_EQ(resumed.clusters.size(), reference.clusters.size());
  EXPECT_TRUE(resumed.report["passes"][0]["resumed"].get<bool>());
  EXPECT_EQ(resumed.report["passes"][2]["dropped"][0]["column"], "x");  // x^3: same ranks, larger variance

  // Other settings: the checkpoints do not apply and everything runs again.
  finished.clear();
  o.spearman_threshold = 0.9;
  auto again = known_tables::redundant_table(400);
  run_pipeline(again, o);
  EXPECT_EQ(finished, (std::vector<int>{1, 2, 3, 4}));
  std::filesystem::remove_all(dir);
}
