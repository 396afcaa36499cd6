#include <gtest/gtest.h>

#include <cmath>

#include "passes.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"

using namespace safetrain::data::descriptors;

namespace {

// Columns with a known answer: constant, duplicate, mostly missing, monotone transform, x and x^2.
TensorRowSource known_table(int64_t rows, std::vector<std::string>& names) {
  torch::manual_seed(1);
  const auto x = torch::rand({rows}) * 4 - 2;  // symmetric: Spearman(x, x^2) ~ 0
  const auto other = torch::randn({rows});
  auto sparse = torch::randn({rows});
  sparse.narrow(0, 0, rows * 9 / 10).fill_(NAN);
  names = {"x", "x_dup", "x_cubed", "const", "sparse", "x_squared", "other", "target"};
  const auto values = torch::stack({x, x.clone(), x.pow(3), torch::full({rows}, 3.0), sparse, x * x, other,
                                    x + 0.1 * other},
                                   1);
  return TensorRowSource(names, values, 64);
}

std::string reason_for(const PipelineResult& r, const std::string& column) {
  for (const auto& d : r.decisions) {
    if (d.column == column) return (d.kept ? "kept" : "pass " + std::to_string(d.pass) + ": " + d.reason);
  }
  return "?";
}

}  // namespace

TEST(Stats, StreamingWelfordMatchesDirectComputation) {
  std::vector<std::string> names;
  auto source = known_table(1000, names);
  const auto stats = compute_stats(source);
  EXPECT_EQ(stats[0].count, 1000);
  source.rewind();
  EXPECT_LT(stats[6].variance(), 2.0);
  EXPECT_GT(stats[6].variance(), 0.5);
  EXPECT_EQ(stats[4].missing, 900);
  EXPECT_NEAR(stats[4].missing_fraction(), 0.9, 1e-12);
  EXPECT_DOUBLE_EQ(stats[3].variance(), 0.0);
  EXPECT_EQ(stats[0].hash, stats[1].hash);
  EXPECT_NE(stats[0].hash, stats[2].hash);
}

TEST(Ranks, TiesAveragedAndSpearmanEqualsPearsonOfRanks) {
  const auto values = torch::tensor({{10.f, 20.f, 20.f, 30.f, NAN}}, torch::kFloat);
  const auto ranks = average_ranks(values);
  EXPECT_TRUE(torch::allclose(ranks, torch::tensor({{1.f, 2.5f, 2.5f, 4.f, 2.5f}})));
  torch::manual_seed(3);
  auto data = torch::randint(0, 5, {4, 200}).to(torch::kFloat);  // many ties
  const auto rho = spearman_matrix(data);
  auto r = average_ranks(data).to(torch::kDouble);
  r = r - r.mean(1, true);
  const auto direct = torch::mm(r, r.t()) / torch::outer(r.norm(2, 1), r.norm(2, 1));
  EXPECT_TRUE(torch::allclose(rho, direct, 1e-9, 1e-9));
  EXPECT_TRUE(torch::allclose(spearman_matrix(data, 1), rho, 1e-12, 1e-12));  // chunked == unchunked
}

TEST(Kernels, HsicCatchesWhatSpearmanMissesAndRdcToo) {
  torch::manual_seed(5);
  const auto x = torch::rand({400}) * 4 - 2;
  const auto independent = torch::randn({400});
  const auto sample = torch::stack({x, x * x, independent});
  const auto rho = spearman_matrix(sample);
  EXPECT_LT(std::abs(rho[0][1].item<double>()), 0.2);
  const auto hsic = hsic_matrix(sample);
  EXPECT_GT(hsic[0][1].item<double>(), 3 * hsic[0][2].item<double>());
  const auto rdc = rdc_matrix(sample, 20, 1.0 / 6.0, 7);
  EXPECT_GT(rdc[0][1].item<double>(), 0.9);
  EXPECT_LT(rdc[0][2].item<double>(), rdc[0][1].item<double>());
}

TEST(Pipeline, KnownTableEveryColumnForTheRightReason) {
  std::vector<std::string> names;
  auto source = known_table(600, names);
  DescriptorOptions o;
  o.targets = {"target"};
  o.hsic_threshold = 0.25;  // x vs x^2 scores above this here; the independent column far below
  o.rdc = false;
  const auto r = run_pipeline(source, o);
  EXPECT_EQ(reason_for(r, "const").rfind("pass 1: variance", 0), 0u) << reason_for(r, "const");
  EXPECT_EQ(reason_for(r, "sparse").rfind("pass 1: missing", 0), 0u);
  EXPECT_EQ(reason_for(r, "x_dup"), "pass 1: exact duplicate of 'x'");
  EXPECT_EQ(reason_for(r, "x_cubed").rfind("pass 2:", 0), 0u) << reason_for(r, "x_cubed");
  EXPECT_EQ(reason_for(r, "x"), "kept");  // the most target-correlated member of its community
  EXPECT_EQ(reason_for(r, "x_squared").rfind("pass 3:", 0), 0u) << reason_for(r, "x_squared");
  EXPECT_EQ(reason_for(r, "other"), "kept");
  EXPECT_EQ(r.kept_columns, (std::vector<std::string>{"x", "other"}));
  // The sweep's promise: no two kept columns are Spearman-redundant.
}

TEST(Pipeline, KeepListAndTargetsAreNeverPruned) {
  std::vector<std::string> names;
  auto source = known_table(300, names);
  DescriptorOptions o;
  o.targets = {"target"};
  o.keep = {"const", "x_cubed"};
  const auto r = run_pipeline(source, o);
  EXPECT_NE(std::find(r.kept_columns.begin(), r.kept_columns.end(), "const"), r.kept_columns.end());
  EXPECT_NE(std::find(r.kept_columns.begin(), r.kept_columns.end(), "x_cubed"), r.kept_columns.end());
  EXPECT_EQ(std::find(r.kept_columns.begin(), r.kept_columns.end(), "target"), r.kept_columns.end());
}

TEST(Pipeline, CheckpointsLetARerunResumeWithTheSameResult) {
  std::vector<std::string> names;
  auto source = known_table(300, names);
  DescriptorOptions o;
  o.targets = {"target"};
  o.checkpoint_dir = std::filesystem::temp_directory_path() / "safetrain_descriptor_ckpt";
  std::filesystem::remove_all(o.checkpoint_dir);
  const auto first = run_pipeline(source, o);
  EXPECT_TRUE(std::filesystem::exists(o.checkpoint_dir / "pass_1.json"));
  const auto second = run_pipeline(source, o);
  EXPECT_EQ(first.kept_columns, second.kept_columns);
  EXPECT_EQ(second.report["passes"][0]["name"], "filter");  // passes 0-1 came from the checkpoint
}
