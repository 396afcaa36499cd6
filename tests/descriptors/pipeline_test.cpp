#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "known_tables.hpp"
#include "passes.hpp"
#include "safetrain/data/tensor_source.hpp"
#include "safetrain/common/error.hpp"
#include "../support/scratch_dir.hpp"

using namespace safetrain::data::descriptors;
using known_tables::contains;
using known_tables::reason_for;

TEST(Pipeline, KnownTableEveryColumnForTheRightReason) {
  auto source = known_tables::redundant_table(600);
  DescriptorOptions o;
  o.targets = {"target"};
  o.hsic_threshold = 0.25;  // x vs x^2 scores above this here; the independent column far below
  o.rdc = false;
  const auto r = run_pipeline(source, o);
  EXPECT_EQ(reason_for(r, "const").rfind("pass 1: variance", 0), 0u) << reason_for(r, "const");
  EXPECT_EQ(reason_for(r, "sparse").rfind("pass 1: missing", 0), 0u);
  EXPECT_EQ(reason_for(r, "x_dup"), "pass 1: exact duplicate of 'x'");
  // x and x^3 have the same ranks (same target association, no missing cells): the larger variance stays.
  EXPECT_EQ(reason_for(r, "x"), "pass 2: Spearman |rho| 1.000 with kept 'x_cubed'");
  EXPECT_EQ(reason_for(r, "x_cubed"), "kept");
  EXPECT_EQ(reason_for(r, "x_squared").rfind("pass 3:", 0), 0u) << reason_for(r, "x_squared");
  EXPECT_EQ(reason_for(r, "other"), "kept");
  EXPECT_EQ(r.kept_columns, (std::vector<std::string>{"x_cubed", "other"}));
  EXPECT_EQ(r.decisions.size(), 7u);  // one per feature column
  ASSERT_EQ(r.report["passes"].size(), 4u);  // 0, 1, 2, 3
  EXPECT_EQ(r.report["passes"][2]["dropped"][0]["partner"], "x_cubed");
  EXPECT_EQ(r.report["columns"][2]["represented_by"], "x_cubed");  // x_dup: via x, dropped in pass 2
  EXPECT_TRUE(r.report["passes"][1].contains("peak_rss_mb_so_far"));
  for (const auto& pass : r.report["passes"]) {  // each pass's wall and CPU seconds (bench/descriptor_scale.py)
    EXPECT_GE(pass["seconds"].get<double>(), 0.0) << pass.dump();
    EXPECT_GE(pass["cpu_seconds"].get<double>(), 0.0) << pass.dump();
  }
  EXPECT_GT(r.report["passes"][3]["cpu_seconds"].get<double>(), 0.0);  // HSIC computes: its CPU time shows
}

TEST(Pipeline, RdcCatchesTheSquareWhenHsicIsOff) {
  auto source = known_tables::redundant_table(600);
  DescriptorOptions o;
  o.targets = {"target"};
  o.hsic = false;
  o.rdc_threshold = 0.8;
  const auto r = run_pipeline(source, o);
  EXPECT_EQ(reason_for(r, "x_squared").rfind("pass 4: RDC", 0), 0u) << reason_for(r, "x_squared");
  EXPECT_EQ(reason_for(r, "other"), "kept");
}

TEST(Pipeline, KeptColumnsHaveNoSpearmanPairAtTheThreshold) {
  torch::manual_seed(21);
  const int64_t n = 300;
  auto values = torch::randn({n, 12});
  for (int64_t c = 1; c < 12; c += 2) values.select(1, c).copy_(values.select(1, c - 1) + 0.1 * torch::randn({n}));
  std::vector<std::string> names;
  for (int c = 0; c < 12; ++c) names.push_back("f" + std::to_string(c));
  safetrain::data::TensorTableSource source(names, values, 50);
  DescriptorOptions o;
  o.spearman_threshold = 0.9;
  o.hsic = o.rdc = false;
  const auto r = run_pipeline(source, o);
  EXPECT_EQ(r.kept_columns.size(), 6u);
  std::vector<int64_t> idx;
  for (const auto& k : r.kept_columns) idx.push_back(std::find(names.begin(), names.end(), k) - names.begin());
  const auto rho = spearman_matrix(values.t().index_select(0, torch::tensor(idx)).contiguous());
  for (size_t a = 0; a < idx.size(); ++a) {
    for (size_t b = a + 1; b < idx.size(); ++b) EXPECT_LT(std::abs(rho[a][b].item<double>()), 0.9);
  }
}

TEST(Pipeline, KeepListAndTargetsAreNeverPruned) {
  auto source = known_tables::redundant_table(300);
  DescriptorOptions o;
  o.targets = {"target", "x_squared"};
  o.keep = {"const", "x_cubed"};
  const auto r = run_pipeline(source, o);
  EXPECT_TRUE(contains(r.kept_columns, "const"));
  EXPECT_TRUE(contains(r.kept_columns, "x_cubed"));
  EXPECT_FALSE(contains(r.kept_columns, "target"));
  EXPECT_FALSE(contains(r.kept_columns, "x_squared"));  // a target: set aside, neither kept nor dropped
  EXPECT_EQ(reason_for(r, "x_squared"), "?");
}

TEST(Pipeline, BadInputGetsNamedErrors) {
  auto expect_error = [](DescriptorOptions o, const std::string& needle, torch::Tensor values = {}) {
    if (!values.defined()) values = torch::randn({40, 3});
    safetrain::data::TensorTableSource source({"a", "b", "t"}, values, 16);
    try {
      run_pipeline(source, o);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const safetrain::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // Out-of-range thresholds are refused by the config schema, with file:line (tests/config/schema_test.cpp).
  DescriptorOptions o;
  o.nan_policy = "zero";
  expect_error(o, "descriptors.nan_policy");
  o = {};
  o.targets = {"nope"};
  expect_error(o, "'nope'");
  o = {};
  o.targets = {"a", "b", "t"};
  expect_error(o, "no feature columns");
  auto all_nan_target = torch::randn({40, 3});
  all_nan_target.select(1, 2).fill_(NAN);
  o = {};
  o.targets = {"t"};
  expect_error(o, "target column 't' has no values", all_nan_target);
}

TEST(Pipeline, OutputsAndCacheKey) {
  auto source = known_tables::redundant_table(300);
  DescriptorOptions o;
  o.targets = {"target"};
  const auto r = run_pipeline(source, o);
  const auto dir = safetrain::testing_support::scratch_dir("descriptor_outputs");
  write_outputs(r, dir);
  std::ifstream json(dir / "selected_columns.json");
  EXPECT_EQ(nlohmann::json::parse(json).get<std::vector<std::string>>(), r.kept_columns);
  std::ifstream clusters(dir / "clusters.csv");
  std::string header, line;
  std::getline(clusters, header);
  EXPECT_EQ(header, "column,community,representative");
  int rows = 0;
  while (std::getline(clusters, line)) ++rows;
  EXPECT_EQ(rows, 4);  // the pass-1 survivors x, x_cubed, x_squared, other
  EXPECT_TRUE(std::filesystem::exists(dir / "report.json"));
  std::filesystem::remove_all(dir);

  const auto key = cache_key(source, o);
  EXPECT_EQ(cache_key(source, o), key);
  auto other = o;
  other.spearman_threshold = 0.9;
  EXPECT_NE(cache_key(source, other), key);
  other = o;
  other.batch_rows = 7;  // does not change the answer
  EXPECT_EQ(cache_key(source, other), key);
  auto changed = known_tables::redundant_table(301);
  EXPECT_NE(cache_key(changed, o), key);
}
