#pragma once
// The one table of names of an enumeration. A setting is parsed into its enum
// once, when the config is loaded; code compares enums, never strings. Each
// enum declares its table next to itself as
//   inline constexpr EnumName<Scheduler> kSchedulerNames[] = {{"none", Scheduler::none}, ...};
//   constexpr const auto& enum_names(Scheduler) { return kSchedulerNames; }
// and name_of / parse_enum / enum_choices find it by argument-dependent lookup.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safetrain {

template <typename E>
struct EnumName {
  const char* name;
  E value;
};

template <typename E>
const char* name_of(E value) {
  for (const auto& entry : enum_names(E{})) {
    if (entry.value == value) return entry.name;
  }
  return "?";
}

template <typename E>
std::optional<E> parse_enum(std::string_view text) {
  for (const auto& entry : enum_names(E{})) {
    if (text == entry.name) return entry.value;
  }
  return std::nullopt;
}

template <typename E>
std::vector<std::string> enum_choices() {
  std::vector<std::string> out;
  for (const auto& entry : enum_names(E{})) out.emplace_back(entry.name);
  return out;
}

}  // namespace safetrain
