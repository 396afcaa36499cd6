// memory_report.json's peak_breakdown: the peak split into the runtime baseline (first sample), the parts the
// run declares (data, model state) and the rest, with the phase in which the peak was reached.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "safetrain/monitor/memory_monitor.hpp"
#include "safetrain/monitor/process_memory.hpp"

using namespace safetrain::monitor;

TEST(PeakBreakdown, PartsAddUpToThePeakAndThePhaseOfThePeakIsNamed) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "RSS figures are measured in the uninstrumented build";
#endif
  MemoryMonitor monitor(MonitorOptions{});
  monitor.sample_now();  // the baseline: before the "data"
  {
    std::vector<char> transient;
    PhaseScope scope(&monitor, Phase::load);
    transient.resize(96 << 20);
    std::memset(transient.data(), 1, transient.size());  // resident, then freed: a peak inside `load`
  }
  {
    PhaseScope scope(&monitor, Phase::train);  // a later, lower phase must not take the peak's name
  }
  monitor.set_known_bytes("data", 40 << 20);
  monitor.set_known_bytes("model_state", 8 << 20);
  const auto b = monitor.report()["peak_breakdown"];
  EXPECT_EQ(b["peak_phase"], "load") << b.dump();
  EXPECT_DOUBLE_EQ(b["data_mb"].get<double>(), 40.0);
  EXPECT_DOUBLE_EQ(b["model_state_mb"].get<double>(), 8.0);
  const double sum = b["runtime_baseline_mb"].get<double>() + b["data_mb"].get<double>() +
                     b["model_state_mb"].get<double>() + b["rest_mb"].get<double>();
  EXPECT_NEAR(sum, b["peak_rss_mb"].get<double>(), 0.2) << b.dump();
  EXPECT_GT(b["peak_rss_mb"].get<double>() - b["runtime_baseline_mb"].get<double>(), 90.0) << b.dump();
  EXPECT_NE(monitor.verdict_line().find("in load = runtime"), std::string::npos) << monitor.verdict_line();
}
