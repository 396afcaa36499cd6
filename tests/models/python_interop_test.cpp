// Checks against the Python reference (shared/bench/torch_reference.py):
// parameter counts and an export -> torch.load -> load_state_dict(strict=True)
// round trip. Skipped when no python3 with torch or no reference is found.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <unistd.h>

#include "safetrain/models/export.hpp"
#include "safetrain/models/model_spec_json.hpp"
#include "safetrain/models/parameter_count.hpp"
#include "safetrain/models/regression_model.hpp"
#include "safetrain/models/state_dict.hpp"

namespace fs = std::filesystem;
using namespace safetrain::models;

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// SAFETRAIN_PYTHON, then python3, then the system interpreter (python3-torch).
std::string find_python_with_torch() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("SAFETRAIN_PYTHON")) candidates.emplace_back(env);
  candidates.insert(candidates.end(), {"python3", "/usr/bin/python3"});
  for (const auto& python : candidates)
    if (std::system((shell_quote(python) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0) return python;
  return "";
}

// Probed once: importing torch takes seconds.
const std::string& python_with_torch() {
  static const std::string python = find_python_with_torch();
  return python;
}

std::string bench_dir() {
  for (const fs::path& dir : {fs::path(SAFETRAIN_SOURCE_DIR) / "shared/bench",
                             fs::path(SAFETRAIN_SOURCE_DIR) / "../shared/bench"})
    if (fs::exists(dir / "torch_reference.py")) return fs::canonical(dir).string();
  return "";
}

// Runs the helper and returns its stdout (trimmed); fails the test on a non-zero exit.
std::string run_reference(const std::vector<std::string>& args) {
  std::string command = shell_quote(python_with_torch()) + " " +
                        shell_quote(std::string(SAFETRAIN_TEST_DATA_DIR) + "/models/reference_check.py") + " " +
                        shell_quote(bench_dir());
  for (const auto& a : args) command += " " + shell_quote(a);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string output;
  std::array<char, 256> buffer{};
  while (pipe && fgets(buffer.data(), buffer.size(), pipe.get())) output += buffer.data();
  const int status = pclose(pipe.release());
  EXPECT_EQ(status, 0) << command << "\n" << output;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return output;
}

#define SKIP_WITHOUT_REFERENCE()                                                        \
  if (python_with_torch().empty()) GTEST_SKIP() << "no python3 with torch";            \
  if (bench_dir().empty()) GTEST_SKIP() << "shared/bench/torch_reference.py not found"

ModelSpec transformer(int64_t features, const std::string& tokens, int64_t patch, int64_t d_model,
                      int64_t heads, int64_t layers) {
  ModelSpec spec;
  spec.type = ModelFamily::transformer;
  spec.input_features = features;
  spec.outputs = 6;
  spec.token_type = *safetrain::parse_enum<TokenType>(tokens);
  spec.patch_size = patch;
  spec.d_model = d_model;
  spec.num_heads = heads;
  spec.num_layers = layers;
  return spec;
}

ModelSpec mlp(int64_t features, int64_t hidden, int64_t layers) {
  ModelSpec spec;
  spec.type = ModelFamily::mlp;
  spec.input_features = features;
  spec.outputs = 3;
  spec.hidden = hidden;
  spec.mlp_layers = layers;
  return spec;
}

}  // namespace

TEST(PythonReference, ParameterCountsAgree) {
  SKIP_WITHOUT_REFERENCE();
  // One interpreter start for every shape: the helper takes a JSON list.
  const std::vector<ModelSpec> specs = {mlp(10, 256, 2), mlp(7, 33, 4), transformer(64, "patch", 4, 512, 8, 4),
                                        transformer(12, "feature", 1, 16, 4, 2)};
  std::string expected;
  for (const auto& spec : specs) expected += std::to_string(expected_parameter_count(spec)) + "\n";
  expected.pop_back();
  EXPECT_EQ(run_reference({"count", nlohmann::json(specs).dump()}), expected);
}

TEST(PythonReference, ExportedWeightsLoadStrictlyAndReproduceOutputs) {
  SKIP_WITHOUT_REFERENCE();
  const fs::path dir = fs::temp_directory_path() / ("safetrain_models_export_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  torch::manual_seed(1);
  for (const auto& spec : {mlp(10, 32, 3), transformer(16, "patch", 4, 32, 4, 2),
                           transformer(6, "feature", 1, 16, 2, 1)}) {
    auto model = build_model(spec);
    {
      // Non-zero position embeddings, so a token-order mistake would show.
      torch::NoGradGuard no_grad;
      for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.1);
    }
    model->eval();
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({5, spec.input_features});
    const auto y = model->forward(x);
    save_state_dict(*model, dir / "weights.pt");
    save_tensor_dict({{"x", x}, {"y", y}}, dir / "tensors.pt");
    const std::string difference = run_reference(
        {"compare", nlohmann::json(spec).dump(), (dir / "weights.pt").string(), (dir / "tensors.pt").string()});
    ASSERT_FALSE(difference.empty());
    EXPECT_LT(std::stod(difference), 1e-5) << describe(spec);
  }
  fs::remove_all(dir);
}
