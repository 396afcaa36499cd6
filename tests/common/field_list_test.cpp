// The field-list machinery (field_list.hpp) on a test-only struct: what each tag writes, reads and keys.
#include "safetrain/common/field_list.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace probe {

enum class Shade { light, dark };
inline constexpr safetrain::EnumName<Shade> kShadeNames[] = {{"light", Shade::light}, {"dark", Shade::dark}};
constexpr const auto& enum_names(Shade) { return kShadeNames; }

struct ProbeOptions {
  int64_t width = 512;
  double rate = 0.25;
  Shade shade = Shade::dark;
  std::vector<std::string> names = {"a"};
  int64_t chunk_rows = 64;          // tuning
  std::function<void()> on_done;  // transient
};

template <class Self, class Visit>
safetrain::fields::ListOf<Self, ProbeOptions> for_each_field(Self& o, Visit&& visit) {
  namespace f = safetrain::fields;
  visit("width", o.width, f::setting);
  visit("rate", o.rate, f::setting);
  visit("shade", o.shade, f::setting);
  visit("names", o.names, f::setting);
  visit("chunk_rows", o.chunk_rows, f::tuning);
  visit("on_done", o.on_done, f::transient);
}

// The same struct with one member its list forgot.
struct ForgetfulOptions {
  int64_t width = 1;
  int64_t forgotten = 2;
};
template <class Self, class Visit>
safetrain::fields::ListOf<Self, ForgetfulOptions> for_each_field(Self& o, Visit&& visit) {
  visit("width", o.width, safetrain::fields::setting);
}

}  // namespace probe

namespace fields = safetrain::fields;

TEST(FieldList, WritesNumbersAsNumbersEnumsByNameAndNoTransientField) {
  const auto j = fields::to_json(probe::ProbeOptions{});
  EXPECT_EQ(j.at("width"), 512);  // a number, not "512"
  EXPECT_TRUE(j.at("width").is_number_integer());
  EXPECT_DOUBLE_EQ(j.at("rate").get<double>(), 0.25);
  EXPECT_EQ(j.at("shade"), "dark");
  EXPECT_EQ(j.at("names"), nlohmann::json::array({"a"}));
  EXPECT_EQ(j.at("chunk_rows"), 64);
  EXPECT_FALSE(j.contains("on_done"));
  EXPECT_EQ(j.size(), 5u);
}

TEST(FieldList, ResultKeyHoldsTheSettingsAlone) {
  const auto key = fields::result_key_json(probe::ProbeOptions{});
  EXPECT_EQ(key.size(), 4u);
  EXPECT_FALSE(key.contains("chunk_rows"));
  EXPECT_FALSE(key.contains("on_done"));
  probe::ProbeOptions other;
  other.chunk_rows = 7;
  EXPECT_EQ(fields::result_key_json(other).dump(), key.dump());
  other.rate = 0.5;
  EXPECT_NE(fields::result_key_json(other).dump(), key.dump());
}

TEST(FieldList, ReadsBackWhatItWroteAndNamesBadKeys) {
  probe::ProbeOptions changed;
  changed.width = 3;
  changed.shade = probe::Shade::light;
  changed.names = {"x", "y"};
  probe::ProbeOptions read;
  fields::from_json(fields::to_json(changed), read, "probe", "probe.");
  EXPECT_EQ(fields::to_json(read), fields::to_json(changed));

  const auto message_of = [](const nlohmann::json& in) {
    probe::ProbeOptions o;
    try {
      fields::from_json(in, o, "probe", "probe.");
    } catch (const safetrain::InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(message_of({{"widht", 1}}).find("probe: unknown key 'widht'; did you mean 'width'?"), std::string::npos);
  EXPECT_NE(message_of({{"on_done", 1}}).find("unknown key 'on_done'"), std::string::npos);
  EXPECT_NE(message_of({{"shade", "dim"}}).find("probe.shade: unknown value 'dim'"), std::string::npos);
  EXPECT_NE(message_of({{"width", "wide"}}).find("probe key 'width'"), std::string::npos);
  EXPECT_NE(message_of(nlohmann::json::array()).find("probe: expected a JSON object"), std::string::npos);
}

TEST(FieldList, CountsMembersSoAForgottenOneIsSeen) {
  EXPECT_EQ(fields::aggregate_field_count<probe::ProbeOptions>(), 6u);
  EXPECT_EQ(fields::listed_field_count(probe::ProbeOptions{}), 6u);
  EXPECT_EQ(fields::aggregate_field_count<probe::ForgetfulOptions>(), 2u);
  EXPECT_NE(fields::listed_field_count(probe::ForgetfulOptions{}),
            fields::aggregate_field_count<probe::ForgetfulOptions>());
}
