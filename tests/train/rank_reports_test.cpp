// memory_report.json of a data-parallel run: per-rank figures and the worst rank's verdict.
#include <gtest/gtest.h>

#include "safetrain/train/rank_reports.hpp"

using safetrain::train::combine_rank_reports;

TEST(RankReports, PerRankFiguresAndTheWorstVerdict) {
  const nlohmann::json flat = {{"peak_rss_mb", 300.0}, {"growth_mb_per_epoch", 0.1}, {"verdict", "flat"}, {"samples", 9}};
  const nlohmann::json growing = {{"peak_rss_mb", 280.0}, {"growth_mb_per_epoch", 4.0}, {"verdict", "growing"}};
  const auto combined = combine_rank_reports({flat, growing});
  EXPECT_EQ(combined["world_size"], 2);
  EXPECT_EQ(combined["worst_rank"], 1);
  EXPECT_EQ(combined["verdict"], "growing");
  EXPECT_EQ(combined["samples"], 9);  // rank 0's own fields stay at the top
  ASSERT_EQ(combined["ranks"].size(), 2u);
  EXPECT_EQ(combined["ranks"][0]["peak_rss_mb"], 300.0);
  EXPECT_EQ(combined["ranks"][1]["growth_mb_per_epoch"], 4.0);

  const nlohmann::json stopped = {{"peak_rss_mb", 100.0}, {"verdict", "stopped: RSS above the limit"}};
  EXPECT_EQ(combine_rank_reports({growing, stopped, flat})["worst_rank"], 1);
  EXPECT_EQ(combine_rank_reports({flat, flat})["worst_rank"], 0);
}
