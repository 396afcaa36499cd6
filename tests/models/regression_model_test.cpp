#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "safetrain/common/error.hpp"
#include "safetrain/models/export.hpp"
#include "safetrain/models/mlp.hpp"
#include "safetrain/models/parameter_count.hpp"
#include "safetrain/models/regression_model.hpp"
#include "safetrain/models/transformer.hpp"

using namespace safetrain::models;

namespace {

ModelSpec mlp(int64_t features, int64_t outputs, int64_t hidden, int64_t layers, double dropout = 0) {
  ModelSpec spec;
  spec.type = ModelFamily::mlp;
  spec.input_features = features;
  spec.outputs = outputs;
  spec.hidden = hidden;
  spec.mlp_layers = layers;
  spec.dropout = dropout;
  return spec;
}

ModelSpec transformer(int64_t features, int64_t outputs, const std::string& tokens, int64_t patch,
                      int64_t d_model, int64_t heads, int64_t layers, int64_t feedforward = 0) {
  ModelSpec spec;
  spec.type = ModelFamily::transformer;
  spec.input_features = features;
  spec.outputs = outputs;
  spec.token_type = *safetrain::parse_enum<TokenType>(tokens);
  spec.patch_size = patch;
  spec.d_model = d_model;
  spec.num_heads = heads;
  spec.num_layers = layers;
  spec.dim_feedforward = feedforward;
  return spec;
}

}  // namespace

TEST(ParameterCount, FormulaMatchesBuiltModules) {
  const std::vector<ModelSpec> specs = {
      mlp(10, 6, 256, 2), mlp(3, 1, 7, 1), mlp(64, 6, 128, 5, 0.2),
      transformer(64, 6, "patch", 4, 32, 4, 2), transformer(12, 3, "feature", 1, 16, 2, 1),
      transformer(48, 6, "patch", 8, 24, 3, 3, 40), transformer(9, 2, "feature", 4, 8, 8, 2, 5)};
  for (const auto& spec : specs) {
    auto model = build_model(spec);
    EXPECT_EQ(count_parameters(*model), expected_parameter_count(spec)) << describe(spec);
  }
}

TEST(ParameterCount, SeedTransformerHasKnownCount) {
  // d_model 512, 8 heads, 4 layers, ff 2048, 16 patch tokens of 4, 6 outputs:
  // embed 2560 + position 8192 + 4 * 3152384 + head 3078.
  EXPECT_EQ(expected_parameter_count(transformer(64, 6, "patch", 4, 512, 8, 4)), 12623366);
}

TEST(RegressionModel, ParameterNamesMatchPythonReference) {
  auto model = build_model(mlp(5, 2, 8, 2));
  std::vector<std::string> names;
  for (const auto& p : model->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}));

  auto t = build_model(transformer(8, 2, "patch", 4, 8, 2, 2));
  const auto params = t->named_parameters();
  for (const char* key : {"embed.weight", "position", "encoder.layers.0.self_attn.in_proj_weight",
                          "encoder.layers.1.self_attn.out_proj.bias", "encoder.layers.1.linear1.weight",
                          "encoder.layers.0.norm2.bias", "head.weight"})
    EXPECT_TRUE(params.contains(key)) << key;
}

TEST(RegressionModel, BuiltUnderNoGradYetParametersRequireGrad) {
  auto model = build_model(transformer(16, 3, "patch", 4, 16, 2, 1));
  EXPECT_TRUE(torch::GradMode::is_enabled());
  for (const auto& p : model->parameters()) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_FALSE(p.grad_fn()) << "initialisation recorded a graph";
  }
}

TEST(RegressionModel, SeedTransformerTrainsOneStepOnCpu) {
  torch::manual_seed(0);
  auto model = build_model(transformer(64, 6, "patch", 4, 512, 8, 4));
  model->train();
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-4));
  const auto x = torch::randn({4, 64});
  const auto y = torch::randn({4, 6});
  const auto before = model->named_parameters()["head.weight"].clone();
  const auto out = model->forward(x);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{4, 6}));
  const auto loss = torch::mse_loss(out, y);
  loss.backward();
  for (const auto& p : model->parameters()) ASSERT_TRUE(p.grad().defined());
  optimizer.step();
  EXPECT_TRUE(std::isfinite(loss.item<double>()));
  EXPECT_FALSE(torch::equal(before, model->named_parameters()["head.weight"]));
}

TEST(RegressionModel, FeatureTokensRunOnePerFeature) {
  auto model = build_model(transformer(7, 2, "feature", 4, 8, 2, 1));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto out = model->forward(torch::randn({3, 7}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(model->named_parameters()["position"].size(0), 7);
  EXPECT_EQ(model->named_parameters()["embed.weight"].size(1), 1);
}

TEST(RegressionModel, BatchRowsAreIndependentInEval) {
  // Token/batch axes mixed up in the [S,B,E] transpose would make rows depend on each other.
  auto model = build_model(transformer(8, 2, "patch", 2, 8, 2, 2));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({5, 8});
  const auto all = model->forward(x);
  const auto single = model->forward(x.slice(0, 2, 3));
  EXPECT_TRUE(torch::allclose(all.slice(0, 2, 3), single, 1e-5, 1e-6));
}

TEST(RegressionModel, MlpDropoutOnlyInTraining) {
  auto model = build_model(mlp(4, 1, 64, 2, 0.5));
  const auto x = torch::randn({16, 4});
  torch::NoGradGuard no_grad;
  model->eval();
  EXPECT_TRUE(torch::equal(model->forward(x), model->forward(x)));
  model->train();
  EXPECT_FALSE(torch::equal(model->forward(x), model->forward(x)));
}

TEST(RegressionModel, BadSpecIsInputErrorNotCrash) {
  EXPECT_THROW(build_model(transformer(30, 6, "patch", 4, 16, 2, 1)), safetrain::InputError);
  EXPECT_THROW(build_model(mlp(0, 6, 16, 1)), safetrain::InputError);
}

TEST(ModelRegistry, EveryFamilyHasAnEntryThatBuildsItsOwnModule) {
  for (const auto& named : kModelFamilyNames) {
    EXPECT_EQ(family_entry(named.value).family, named.value) << named.name;
  }
  auto m = build_model(mlp(5, 2, 8, 2));
  EXPECT_NE(dynamic_cast<MlpImpl*>(m.get()), nullptr);
  auto t = build_model(transformer(8, 2, "patch", 4, 8, 2, 1));
  EXPECT_NE(dynamic_cast<TransformerImpl*>(t.get()), nullptr);
  EXPECT_EQ(t->spec().type, ModelFamily::transformer);
  EXPECT_EQ(describe(m->spec()), "mlp (2 hidden layers of 8) 5 -> 2");
}

TEST(StateDict, EntriesOwnTheirStorage) {
  auto model = build_model(transformer(8, 2, "patch", 4, 8, 2, 1));
  const auto entries = state_dict(*model);
  EXPECT_EQ(entries.size(), model->named_parameters().size());
  for (const auto& [name, tensor] : entries) {
    EXPECT_EQ(tensor.storage().nbytes(), static_cast<size_t>(tensor.numel() * tensor.element_size())) << name;
    EXPECT_FALSE(tensor.requires_grad()) << name;
  }
}

TEST(StateDict, SavingAViewWritesOnlyItsOwnBytes) {
  const auto parent = torch::arange(100000, torch::kFloat);
  const auto path = std::filesystem::temp_directory_path() / ("safetrain_view_" + std::to_string(::getpid()) + ".pt");
  save_tensor_dict({{"view", parent.slice(0, 10, 20)}}, path);
  EXPECT_LT(std::filesystem::file_size(path), 100000u);  // the parent alone is 400000 bytes
  const auto loaded = torch::pickle_load([&] {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), {});
  }()).toGenericDict();
  EXPECT_TRUE(torch::equal(loaded.at("view").toTensor(), parent.slice(0, 10, 20)));
  std::filesystem::remove(path);
}
