// The pruner's cache key is computed from DescriptorOptions' field list: every member is listed, every setting
// changes the key, the tuning fields do not, and report.json's settings come from the same list.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "known_tables.hpp"
#include "safetrain/common/field_list.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"

namespace ds = safetrain::data::descriptors;
namespace fields = safetrain::fields;

namespace {

// A different value of any listed member type: a new member of a new type fails to compile here, so the
// test is extended with the struct.
template <class M>
void change_value(M& member) {
  if constexpr (std::is_same_v<M, bool>) {
    member = !member;
  } else if constexpr (std::is_arithmetic_v<M>) {
    member = static_cast<M>(member * 2 + 1);
  } else if constexpr (std::is_same_v<M, std::string>) {
    member += "_changed";
  } else if constexpr (std::is_same_v<M, std::vector<std::string>>) {
    member.push_back("changed");
  } else {
    static_assert(std::is_same_v<M, void>, "give change_value a case for this member type");
  }
}

// The options with only the field called `name` changed.
ds::DescriptorOptions with_field_changed(const ds::DescriptorOptions& base, const std::string& name) {
  ds::DescriptorOptions changed = base;
  for_each_field(changed, [&](const char* field, auto& member, auto tag) {
    if constexpr (!std::is_same_v<decltype(tag), fields::Transient>) {
      if (name == field) change_value(member);
    }
  });
  return changed;
}

template <class Tag>
std::vector<std::string> names_tagged(const ds::DescriptorOptions& o) {
  std::vector<std::string> names;
  for_each_field(o, [&](const char* field, const auto&, auto tag) {
    if (std::is_same_v<decltype(tag), Tag>) names.emplace_back(field);
  });
  return names;
}

}  // namespace

TEST(DescriptorCacheKey, EveryMemberOfTheOptionsIsInItsFieldList) {
  // Fails when a member is added to DescriptorOptions and not to for_each_field (options.hpp).
  EXPECT_EQ(fields::listed_field_count(ds::DescriptorOptions{}), fields::aggregate_field_count<ds::DescriptorOptions>());
}

TEST(DescriptorCacheKey, EverySettingChangesTheKeyAndNoTuningFieldDoes) {
  auto source = known_tables::redundant_table(100);
  ds::DescriptorOptions o;
  o.targets = {"target"};
  const std::string key = ds::cache_key(source, o);
  const auto settings = names_tagged<fields::Setting>(o);
  EXPECT_GE(settings.size(), 16u);  // walks the list, so a new setting is covered with no edit here
  for (const auto& name : settings) {
    EXPECT_NE(ds::cache_key(source, with_field_changed(o, name)), key) << name << " is not in the cache key";
  }
  for (const auto& name : names_tagged<fields::Tuning>(o)) {
    EXPECT_EQ(ds::cache_key(source, with_field_changed(o, name)), key) << name << " should not change the key";
  }
}

TEST(DescriptorCacheKey, ReportSettingsAreTheWrittenFieldsWithNumbersAsNumbers) {
  auto source = known_tables::redundant_table(200);
  ds::DescriptorOptions o;
  o.targets = {"target"};
  o.rdc = false;
  const auto report = ds::run_pipeline(source, o).report;
  const auto& settings = report.at("settings");
  EXPECT_EQ(settings.at("hsic_sample_rows"), 512);  // the tool wrote "512" before
  EXPECT_EQ(settings.at("rdc"), false);
  EXPECT_EQ(settings.at("batch_rows"), o.batch_rows);
  EXPECT_FALSE(settings.contains("checkpoint_dir"));
  EXPECT_EQ(settings.size(), names_tagged<fields::Setting>(o).size() + names_tagged<fields::Tuning>(o).size());
}
