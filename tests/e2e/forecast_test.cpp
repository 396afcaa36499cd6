// The memory forecast in real runs: printed before loading, set beside each phase's measured peak in
// memory_report.json, and a config whose forecast does not fit refused before anything is loaded.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

double mem_available_mb() {
  std::ifstream in("/proc/meminfo");
  for (std::string key; in >> key;) {
    double kb = 0;
    in >> kb;
    if (key == "MemAvailable:") return kb / 1024.0;
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

}  // namespace

TEST(MemoryForecastInRuns, EveryPhaseMeasuredBesideItsForecast) {
  const auto dir = scratch("forecast_report");
  const auto r = run({"trainer", "--config", tiny_config(dir).string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("memory forecast for 1500 rows"), std::string::npos) << r.err;
  EXPECT_LT(r.err.find("memory forecast"), r.err.find("data: 1500 rows")) << "the forecast comes before loading";
  std::ifstream in(dir / "runs/tiny/memory_report.json");
  const auto report = nlohmann::json::parse(in);
  for (const char* phase : {"load", "train", "validate", "checkpoint", "test", "importance", "plot"}) {
    ASSERT_TRUE(report["phase_peaks"].contains(phase)) << phase << "\n" << report["phase_peaks"].dump(1);
    const auto& p = report["phase_peaks"][phase];
    EXPECT_GT(p["forecast_mb"].get<double>(), 0) << phase;
    // The report rounds each figure to 0.1 MB; the ratio is of the unrounded ones.
    const double ratio = p["above_runtime_mb"].get<double>() / p["forecast_mb"].get<double>();
    EXPECT_NEAR(p["measured_over_forecast"].get<double>(), ratio, 0.01 + ratio * 0.06 / p["forecast_mb"].get<double>())
        << phase;
  }
}

TEST(MemoryForecastInRuns, AConfigWhoseForecastDoesNotFitIsRefusedBeforeLoading) {
  const auto dir = scratch("forecast_refused");
  // Four million synthetic rows (~1 GB forecast) with all but ~300 MB of MemAvailable held in reserve: the
  // forecast does not fit, and the refusal must come before the table is generated.
  const double reserve = mem_available_mb() - 300;
  ASSERT_GT(reserve, 0);
  std::ostringstream extra;
  extra << "data:\n  synthetic:\n    rows: 4000000\n    descriptor_columns: 60\nmemory:\n  min_free_mb: " << reserve << "\n";
  const auto r = run({"trainer", "--config", tiny_config(dir, extra.str()).string()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("memory forecast: the "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("phase needs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("data.storage: mmap"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("data: 4000000 rows"), std::string::npos) << "nothing was loaded\n" << r.err;
}

TEST(MemoryForecastInRuns, CheckSystemSizesTheBatchForABudgetByTheForecast) {
  const auto dir = scratch("forecast_budget");
  const auto config = tiny_config(dir, "model:\n  hidden: 1024\n").string();
  const auto largest_for = [&](const std::string& budget_mb) {
    const auto r = run({"check_system", "--config", config, "--budget-mb", budget_mb});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto section = r.out.find("recommended for a budget of " + budget_mb + " MB (host)");
    EXPECT_NE(section, std::string::npos) << r.out;
    EXPECT_NE(r.out.find("memory forecast at that batch", section), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("train ~", section), std::string::npos) << r.out;
    const auto at = r.out.find("largest whose forecast fits: ", section);
    return at == std::string::npos ? -1 : std::stoll(r.out.substr(at + 29));
  };
  const auto tight = largest_for("120"), roomy = largest_for("4000");
  EXPECT_GT(tight, 0);
  EXPECT_LT(tight, roomy) << "a smaller budget admits a smaller batch";
}

// A target the table's header lacks is refused from the header: before the forecast counts the rows and
// before the load (it was refused after both, 2.2 s into a 1M x 70 CSV, 5.6 s into its .csv.gz).
TEST(MemoryForecastInRuns, ATargetTheHeaderLacksIsRefusedBeforeCountingOrLoading) {
  const auto dir = scratch("forecast_unknown_target");
  std::ofstream table(dir / "rows.csv");
  table << "a,b,y\n";
  for (int i = 0; i < 400; ++i) table << i % 7 << "," << i % 11 << "," << i % 5 << "\n";
  table.close();
  for (const std::string targets : {"[y_missing]", "q_"}) {
    const auto r = run({"trainer", "--config", tiny_config(dir).string(), "--set", "data.path=" + (dir / "rows.csv").string(),
                        "--set", "data.targets=" + targets});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("data.targets: "), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("memory forecast for"), std::string::npos) << "refused before the count\n" << r.err;
    EXPECT_EQ(r.err.find("data: 400 rows"), std::string::npos) << "refused before the load\n" << r.err;
  }
}
