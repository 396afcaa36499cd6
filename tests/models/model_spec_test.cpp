#include <gtest/gtest.h>

#include "safetrain/common/error.hpp"
#include "safetrain/models/model_spec.hpp"
#include "safetrain/models/model_spec_json.hpp"
#include "safetrain/common/parse_setting.hpp"
#include "safetrain/models/run_kinds.hpp"
#include "safetrain/models/transformer.hpp"

using safetrain::InputError;
using namespace safetrain::models;
using safetrain::parse_setting;

namespace {

ModelSpec transformer_spec(int64_t features, int64_t patch) {
  ModelSpec spec;
  spec.type = ModelFamily::transformer;
  spec.input_features = features;
  spec.outputs = 6;
  spec.patch_size = patch;
  spec.d_model = 32;
  spec.num_heads = 4;
  spec.num_layers = 1;
  return spec;
}

std::string error_of(const ModelSpec& spec) {
  try {
    validate(spec);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ModelSpec, PatchSizeNotDividingFeaturesNamesTheKey) {
  const std::string message = error_of(transformer_spec(30, 4));
  EXPECT_NE(message.find("model.patch_size"), std::string::npos) << message;
  EXPECT_NE(message.find("30 features are not a multiple of 4"), std::string::npos) << message;
}

TEST(ModelSpec, FeatureTokensAcceptAnyFeatureCount) {
  auto spec = transformer_spec(30, 4);
  spec.token_type = TokenType::feature;
  EXPECT_NO_THROW(validate(spec));
  EXPECT_EQ(token_count(spec), 30);
  EXPECT_EQ(token_width(spec), 1);
}

TEST(ModelSpec, HeadsMustDivideDModel) {
  auto spec = transformer_spec(32, 4);
  spec.num_heads = 5;
  EXPECT_NE(error_of(spec).find("model.num_heads"), std::string::npos);
}

TEST(ModelSpecJson, EveryMemberIsInTheFieldListTheJsonIsWrittenFrom) {
  namespace fields = safetrain::fields;
  const size_t options = fields::listed_field_count(ModelOptions{});
  EXPECT_EQ(options, fields::aggregate_field_count<ModelOptions>());
  // ModelSpec's aggregate count takes its ModelOptions base as one field.
  EXPECT_EQ(fields::listed_field_count(ModelSpec{}) - options, fields::aggregate_field_count<ModelSpec>() - 1);
  nlohmann::json j = ModelSpec{};
  EXPECT_EQ(j.size(), fields::listed_field_count(ModelSpec{}));
  EXPECT_EQ(j.at("d_model"), 512);
  EXPECT_EQ(j.at("token_type"), "patch");
}

TEST(ModelSpec, MisspeltTypeGetsSuggestion) {
  // The name is parsed where it is read (a spec's JSON, or the config at load time).
  nlohmann::json j = transformer_spec(32, 4);
  j["type"] = "transfomer";
  std::string message;
  try {
    (void)j.get<ModelSpec>();
  } catch (const InputError& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("model.type"), std::string::npos) << message;
  EXPECT_NE(message.find("did you mean 'transformer'"), std::string::npos) << message;
}

TEST(ModelSpec, UnknownEnumNamesNameTheKey) {
  EXPECT_EQ(parse_setting<TokenType>("model.token_type", "feature"), TokenType::feature);
  EXPECT_EQ(parse_setting<Precision>("training.precision", "bf16"), Precision::bf16);
  try {
    (void)parse_setting<TokenType>("model.token_type", "featur");
    FAIL() << "unknown token type accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("model.token_type: unknown value 'featur'"), std::string::npos) << message;
    EXPECT_NE(message.find("did you mean 'feature'"), std::string::npos) << message;
  }
  EXPECT_THROW((void)parse_setting<OptimizerKind>("training.optimizer", "lbfgs"), InputError);
}

TEST(ModelSpecJson, EnumsAreStoredByName) {
  auto spec = transformer_spec(32, 4);
  spec.token_type = TokenType::feature;
  const nlohmann::json j = spec;
  EXPECT_EQ(j.at("type"), "transformer");
  EXPECT_EQ(j.at("token_type"), "feature");
  EXPECT_EQ(j.get<ModelSpec>().token_type, TokenType::feature);
  spec.type = ModelFamily::mlp;
  EXPECT_EQ(nlohmann::json(spec).get<ModelSpec>().type, ModelFamily::mlp);
}

TEST(ModelSpec, OutputNamesMustMatchOutputs) {
  ModelSpec spec;
  spec.type = ModelFamily::mlp;
  spec.input_features = 4;
  spec.outputs = 2;
  spec.output_names = {"x"};
  EXPECT_THROW(validate(spec), InputError);
  spec.output_names = {"x", "y"};
  EXPECT_NO_THROW(validate(spec));
  EXPECT_EQ(output_name(spec, 1), "y");
  spec.output_names.clear();
  EXPECT_EQ(output_name(spec, 1), "output_1");
}

TEST(ModelSpec, DefaultFeedforwardIsFourTimesDModel) {
  auto spec = transformer_spec(32, 4);
  EXPECT_EQ(feedforward_dim(spec), 128);
  spec.dim_feedforward = 50;
  EXPECT_EQ(feedforward_dim(spec), 50);
}

TEST(ModelSpecJson, RoundTripsAndRejectsUnknownKeys) {
  auto spec = transformer_spec(32, 8);
  spec.output_names = {"a", "b", "c", "d", "e", "f"};
  spec.dropout = 0.25;
  const nlohmann::json j = spec;
  const auto back = j.get<ModelSpec>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_EQ(back.patch_size, 8);
  EXPECT_EQ(back.output_names[5], "f");

  nlohmann::json bad = j;
  bad["patchsize"] = 3;
  try {
    (void)bad.get<ModelSpec>();
    FAIL() << "unknown key accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("patch_size"), std::string::npos) << e.what();
  }
  nlohmann::json wrong_type = j;
  wrong_type["d_model"] = "big";
  EXPECT_THROW((void)wrong_type.get<ModelSpec>(), InputError);
}
