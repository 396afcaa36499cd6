// export_weights -> python/safetrain_model.py (torch alone) predicts what C++ predict does, to 1e-6 of the
// targets' magnitude, for an MLP and both transformer token layouts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

// The interpreter the build's torch comes from (tools/build_env.sh), as the other interop tests find it.
std::string python_with_torch() {
  const char* python = std::getenv("SAFETRAIN_PYTHON");
  if (!python || !*python) return "";
  const std::string probe = std::string("'") + python + "' -c 'import torch, pandas' >/dev/null 2>&1";
  return std::system(probe.c_str()) == 0 ? python : "";
}

// Eight features, two targets of different scale (the target scaling matters), an id column, a few missing cells.
fs::path table_csv(const fs::path& dir, bool with_missing) {
  const fs::path csv = dir / (with_missing ? "table_nan.csv" : "table.csv");
  std::ofstream out(csv);
  out << "mol_id,f0,f1,f2,f3,f4,f5,f6,f7,target_small,target_large\n";
  out.precision(9);
  for (int i = 0; i < 240; ++i) {
    double f[8];
    for (int k = 0; k < 8; ++k) f[k] = std::sin(0.37 * i * (k + 1) + k) * (1 + k);
    out << "M" << i;
    for (int k = 0; k < 8; ++k) {
      if (with_missing && k == 3 && i % 17 == 0) out << ',';
      else out << ',' << f[k];
    }
    out << ',' << 0.01 * (f[0] - f[1] * f[2]) << ',' << 500 + 40 * f[3] + 10 * f[7] << '\n';
  }
  return csv;
}

std::string settings(const fs::path& csv, const std::string& model, const std::string& nan_policy = "fill_mean") {
  return "data:\n  source: csv\n  path: " + csv.string() + "\n  targets: target_\n  id_columns: [mol_id]\n" +
         "  nan_policy: " + nan_policy + "\ndescriptors:\n  enabled: false\nmodel:\n" + model;
}

void expect_python_matches_predict(const std::string& name, const std::string& model_yaml,
                                   const std::string& nan_policy = "fill_mean") {
  const std::string python = python_with_torch();
  if (python.empty()) GTEST_SKIP() << "no SAFETRAIN_PYTHON with torch and pandas";
  const auto dir = scratch("python_export_" + name);
  const auto csv = table_csv(dir, false), with_missing = table_csv(dir, true);
  const auto trained = run({"trainer", "--config", tiny_config(dir, settings(csv, model_yaml, nan_policy)).string()});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const auto best = dir / "runs" / "tiny" / "checkpoints" / "best";
  const auto exported = run({"export_weights", "--checkpoint", best.string(), "--output", (dir / "model.pt").string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  for (const auto& input : {csv, with_missing}) {  // the run's NaN policy applies on both sides
    const auto out = dir / (input.stem().string() + "_pred.csv");
    const auto predicted = run({"predict", "--checkpoint", best.string(), "--input", input.string(), "--output",
                                out.string()});
    ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
    const std::string command = "'" + python + "' " + SAFETRAIN_SOURCE_DIR + "/tests/support/check_export.py '" +
                                (dir / "model.pt").string() + "' '" + input.string() + "' '" + out.string() +
                                "' 1e-6 > '" + (dir / "check.txt").string() + "' 2>&1";
    EXPECT_EQ(std::system(command.c_str()), 0) << name << " " << input << ":\n" << read_text(dir / "check.txt");
  }
}

}  // namespace

TEST(PythonExport, MlpPredictsAsCppPredict) {
  expect_python_matches_predict("mlp", "  type: mlp\n  hidden: 24\n  mlp_layers: 2\n  dropout: 0.1\n");
}

TEST(PythonExport, DropRowsSkipsTheSameRowsAsCppPredict) {
  expect_python_matches_predict("mlp_drop_rows", "  type: mlp\n  hidden: 16\n", "drop_rows");
}

TEST(PythonExport, PatchTransformerPredictsAsCppPredict) {
  expect_python_matches_predict("transformer_patch", "  type: transformer\n  d_model: 16\n  num_heads: 2\n"
                                                     "  num_layers: 2\n  patch_size: 4\n  dropout: 0.1\n");
}

TEST(PythonExport, FeatureTokenTransformerPredictsAsCppPredict) {
  expect_python_matches_predict("transformer_feature", "  type: transformer\n  d_model: 8\n  num_heads: 2\n"
                                                       "  num_layers: 1\n  token_type: feature\n"
                                                       "  dim_feedforward: 16\n");
}

TEST(PythonExport, WeightsOnlyKeepsTheBareDictionary) {
  const std::string python = python_with_torch();
  if (python.empty()) GTEST_SKIP() << "no SAFETRAIN_PYTHON with torch and pandas";
  const auto dir = scratch("python_export_weights_only");
  const auto csv = table_csv(dir, false);
  ASSERT_EQ(run({"trainer", "--config", tiny_config(dir, settings(csv, "  type: mlp\n")).string()}).exit_code, 0);
  const auto best = dir / "runs" / "tiny" / "checkpoints" / "best";
  ASSERT_EQ(run({"export_weights", "--checkpoint", best.string(), "--output", (dir / "w.pt").string(),
                 "--weights-only"}).exit_code, 0);
  const std::string command = "'" + python + "' -c \"import torch; d = torch.load('" + (dir / "w.pt").string() +
                              "', weights_only=True); assert sorted(d)[0] == '0.bias' and 'format' not in d\"";
  EXPECT_EQ(std::system(command.c_str()), 0);
}
