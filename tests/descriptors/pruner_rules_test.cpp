// Issue 15 item 9 and issue 18 items 3-4, issue 17 item 2: every drop names a kept column at or above
// the threshold; column order never changes the answer; several targets; the working-set bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "known_tables.hpp"
#include "passes.hpp"

using namespace safetrain::data::descriptors;

namespace {

// Correlated groups, a monotone copy, integer counts, a rare count column, a duplicate, a constant,
// ~1% NaN in two columns and two targets.
std::pair<std::vector<std::string>, torch::Tensor> realistic_table(int64_t rows) {
  torch::manual_seed(31);
  std::vector<std::string> names;
  std::vector<torch::Tensor> columns;
  auto add = [&](const std::string& name, const torch::Tensor& values) {
    names.push_back(name);
    columns.push_back(values.to(torch::kFloat));
  };
  for (int g = 0; g < 4; ++g) {
    const auto factor = torch::randn({rows});
    for (int j = 0; j < 4; ++j) add("g" + std::to_string(g) + "_" + std::to_string(j), factor + (0.05 + 0.1 * j) * torch::randn({rows}));
  }
  add("g0_exp", torch::exp(columns[0]));
  add("count_a", torch::poisson(torch::full({rows}, 3.0)));
  add("count_b", columns.back() + torch::poisson(torch::full({rows}, 0.3)));
  auto rare = torch::zeros({rows});
  rare.narrow(0, 0, 30).fill_(1.0);
  add("rare", rare.index_select(0, torch::randperm(rows)));
  add("dup_of_count_a", columns[17].clone());
  add("constant", torch::full({rows}, 2.0));
  for (int c = 0; c < 2; ++c) {
    auto gappy = torch::randn({rows});
    gappy.masked_fill_(torch::rand({rows}) < 0.01, NAN);
    add("gappy_" + std::to_string(c), gappy);
  }
  add("t1", columns[4] + 0.5 * torch::randn({rows}));
  add("t2", columns[17] + 0.2 * torch::randn({rows}));
  return {names, torch::stack(columns, 1)};
}

std::map<std::string, std::string> decisions_by_column(const PipelineResult& r) {
  std::map<std::string, std::string> out;
  for (const auto& d : r.decisions) out[d.column] = d.kept ? "kept" : d.reason;
  return out;
}

}  // namespace

TEST(PrunerRules, ChainedCommunityDropsOnlyForAKeptPartnerAtTheThreshold) {
  // A-B and B-C at or above 0.95, A-C below: one community led by A. C has no kept partner.
  auto rho = torch::eye(3, torch::kDouble);
  rho[0][1] = rho[1][0] = 0.97;
  rho[1][2] = rho[2][1] = 0.96;
  rho[0][2] = rho[2][0] = 0.90;
  Informativeness info{{0.5, 0.3, 0.1}, {0, 0, 0}, {1, 1, 1}, {"A", "B", "C"}};
  std::vector<ColumnDecision> decisions;
  const auto r = spearman_pass(rho, {"A", "B", "C"}, {false, false, false}, info, DescriptorOptions{}, decisions);
  EXPECT_EQ(r.kept, (std::vector<int64_t>{0, 2}));
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].column, "B");
  EXPECT_EQ(decisions[0].partner, "A");
}

TEST(PrunerRules, EveryDropNamesAKeptStandInAboveItsThreshold) {
  auto [names, values] = realistic_table(3000);
  safetrain::data::TensorTableSource source(names, values, 512);
  DescriptorOptions o;
  o.targets = {"t1", "t2"};
  const auto r = run_pipeline(source, o);
  std::vector<int64_t> kept_index;
  for (const auto& d : r.decisions) {
    if (d.kept || d.partner.empty()) continue;
    EXPECT_TRUE(known_tables::contains(r.kept_columns, d.represented_by)) << d.column << " -> " << d.represented_by;
    if (d.pass == 2) {  // the partner was kept when pass 2 ended, at or above the threshold
      const auto i = std::find(names.begin(), names.end(), d.column) - names.begin();
      const auto j = std::find(names.begin(), names.end(), d.partner) - names.begin();
      const auto rho = spearman_matrix(torch::stack({values.select(1, i), values.select(1, j)}));
      EXPECT_GE(std::abs(rho[0][1].item<double>()), o.spearman_threshold - 1e-6) << d.column << " " << d.reason;
    }
  }
  for (const auto& c : r.report["columns"]) {
    if (!c["kept"].get<bool>() && !c["partner"].get<std::string>().empty()) {
      EXPECT_FALSE(c["represented_by"].get<std::string>().empty());
    }
  }
}

TEST(PrunerRules, FivePermutationsOfTheColumnsGiveTheSameAnswer) {
  auto [names, values] = realistic_table(2000);
  DescriptorOptions o;
  o.targets = {"t1", "t2"};
  safetrain::data::TensorTableSource original(names, values, 256);
  const auto reference = run_pipeline(original, o);
  auto sorted_kept = reference.kept_columns;
  std::sort(sorted_kept.begin(), sorted_kept.end());
  torch::manual_seed(77);
  for (int trial = 0; trial < 5; ++trial) {
    const auto order = torch::randperm(static_cast<int64_t>(names.size()));
    std::vector<std::string> permuted_names;
    for (int64_t i = 0; i < order.size(0); ++i) permuted_names.push_back(names[static_cast<size_t>(order[i].item<int64_t>())]);
    safetrain::data::TensorTableSource permuted(permuted_names, values.index_select(1, order), 256);
    const auto r = run_pipeline(permuted, o);
    auto kept = r.kept_columns;
    std::sort(kept.begin(), kept.end());
    EXPECT_EQ(kept, sorted_kept) << "permutation " << trial;
    EXPECT_EQ(decisions_by_column(r), decisions_by_column(reference)) << "permutation " << trial;
  }
  EXPECT_EQ(known_tables::reason_for(reference, "dup_of_count_a"), "pass 1: exact duplicate of 'count_a'");
}

TEST(PrunerRules, SeveralTargetsTheRepresentativeIsTheOneMostAssociatedWithAny) {
  torch::manual_seed(41);
  const int64_t n = 2000;
  const auto u = torch::randn({n});
  const auto v = u + 0.05 * torch::randn({n});  // |rho(u, v)| ~ 0.998
  const auto t1 = u + 3.0 * torch::randn({n});   // weakly tied to u
  const auto t2 = v + 0.01 * torch::randn({n});  // strongly tied to v
  safetrain::data::TensorTableSource source({"u", "v", "w", "t1", "t2"}, torch::stack({u, v, torch::randn({n}), t1, t2}, 1), 500);
  DescriptorOptions o;
  o.targets = {"t1", "t2"};
  const auto r = run_pipeline(source, o);
  EXPECT_EQ(r.kept_columns, (std::vector<std::string>{"v", "w"}));
  EXPECT_EQ(known_tables::reason_for(r, "u").rfind("pass 2: Spearman", 0), 0u) << known_tables::reason_for(r, "u");
  const auto& association = r.report["target_association"];
  ASSERT_TRUE(association.contains("v"));
  EXPECT_GT(association["v"]["t2"].get<double>(), 0.99);
  EXPECT_TRUE(association["w"].contains("t1"));
  EXPECT_FALSE(association.contains("u"));
}

TEST(PrunerRules, SmallWorkingBudgetGivesTheSameAnswerAndStaysUnderIt) {
  auto [names, values] = realistic_table(3000);
  DescriptorOptions o;
  o.targets = {"t1", "t2"};
  o.max_working_mb = 100000;
  safetrain::data::TensorTableSource unbounded_source(names, values, 512);
  const auto unbounded = run_pipeline(unbounded_source, o);
  o.max_working_mb = 2;
  safetrain::data::TensorTableSource small_source(names, values, 512);
  const auto small = run_pipeline(small_source, o);
  EXPECT_EQ(small.kept_columns, unbounded.kept_columns);
  EXPECT_EQ(decisions_by_column(small), decisions_by_column(unbounded));
  int checked = 0;
  for (const auto& pass : small.report["passes"]) {
    if (pass["pass"].get<int>() < 2) continue;
    EXPECT_LE(pass["working_set_mb"].get<double>(), 2.0) << pass.dump();
    EXPECT_GT(pass["working_set_mb"].get<double>(), 0.0);
    ++checked;
  }
  EXPECT_EQ(checked, 3);
  EXPECT_LE(small.report["load_working_set_mb"].get<double>(), 2.0);
}
