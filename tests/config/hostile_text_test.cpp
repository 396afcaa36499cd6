// Config messages never echo what a file that is not a config holds, quote values short and
// escaped, and every setting reads one way: no hex rates, no folded line breaks, no second document.
#include <gtest/gtest.h>

#include <filesystem>

#include "safetrain/config/loader.hpp"
#include "../support/input_error_of.hpp"

namespace fs = std::filesystem;
using namespace safetrain::config;
using safetrain::testing_support::input_error_of;

namespace {

const fs::path kHostile = fs::path(SAFETRAIN_SOURCE_DIR) / "tests" / "hostile" / "configs";
const fs::path kQuickstart = fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml";

}  // namespace

TEST(ConfigHostileText, AFileThatIsNotAConfigIsNamedButNeverEchoed) {
  const auto message = input_error_of([] { load_config(kHostile / "extends_not_a_config.yaml"); });
  EXPECT_NE(message.find("not_a_config.txt:1:1:"), std::string::npos) << message;
  EXPECT_EQ(message.find("SECRET"), std::string::npos) << message;
  EXPECT_EQ(message.find("password"), std::string::npos) << message;
}

TEST(ConfigHostileText, ValuesAreQuotedShortAndEscaped) {
  const auto message = input_error_of([] { load_config(kHostile / "escape_in_value.yaml"); });
  EXPECT_NE(message.find("got 'adam\\x1B[31mw'"), std::string::npos) << message;
  EXPECT_EQ(message.find('\x1b'), std::string::npos);
  const auto long_value = input_error_of([] { load_config(kQuickstart, {{"training.optimizer", std::string(500, 'z')}}); });
  EXPECT_LT(long_value.size(), 200u) << long_value;
}

TEST(ConfigHostileText, HexFloatsAreRefusedLikeHexIntegers) {
  EXPECT_NE(input_error_of([] { load_config(kQuickstart, {{"training.lr", "0x10"}}); }).find("expected a number"),
            std::string::npos);
  EXPECT_NE(input_error_of([] { load_config(kQuickstart, {{"training.batch_size", "0x10"}}); }).find("expected an integer"),
            std::string::npos);
  EXPECT_EQ(input_error_of([] { load_config(kQuickstart, {{"training.lr", "1.5e-3"}}); }), "");
}

TEST(ConfigHostileText, ALineBreakInASettingIsRefused) {
  const auto message = input_error_of([] { load_config(kQuickstart, {{"output.dir", "runs\nother"}}); });
  EXPECT_NE(message.find("--set output.dir: the value holds a line break"), std::string::npos) << message;
  EXPECT_NE(message.find("runs\\nother"), std::string::npos) << message;
}

TEST(ConfigHostileText, ASecondDocumentIsRefusedAnEmptyOneIsNot) {
  const auto message = input_error_of([] { load_config(kHostile / "second_document.yaml"); });
  EXPECT_NE(message.find("second_document.yaml:5:1: a second YAML document"), std::string::npos) << message;
  EXPECT_EQ(input_error_of([] { resolve_from_text("training:\n  lr: 0.001\n---\n", "trailing.yaml"); }), "");
}
