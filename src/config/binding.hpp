#pragma once
// Private to src/config: how a key is bound to a member. `bind` takes the
// dotted key, an accessor for the member (SAFETRAIN_FIELD), a range and help;
// the member's type picks the kind, the parser and the printer (Codec<T>).
// Values reach `read` already validated (loader.cpp), so decoding cannot fail.
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "safetrain/config/config.hpp"
#include "safetrain/config/schema.hpp"
#include "value_text.hpp"

namespace safetrain::config {

template <typename T, typename = void>
struct Codec;

template <>
struct Codec<int64_t> {
  static constexpr KeyKind kind = KeyKind::kInt;
  static int64_t decode(const YAML::Node& n) {
    long long v = 0;
    parse_int(n.Scalar(), v);
    return v;
  }
  static YAML::Node encode(int64_t v) { return YAML::Node(std::to_string(v)); }
};

template <>
struct Codec<uint64_t> {
  static constexpr KeyKind kind = KeyKind::kInt;
  static uint64_t decode(const YAML::Node& n) { return static_cast<uint64_t>(Codec<int64_t>::decode(n)); }
  static YAML::Node encode(uint64_t v) { return YAML::Node(std::to_string(v)); }
};

template <>
struct Codec<double> {
  static constexpr KeyKind kind = KeyKind::kFloat;
  static double decode(const YAML::Node& n) {
    double v = 0;
    parse_double(n.Scalar(), v);
    return v;
  }
  static YAML::Node encode(double v) { return YAML::Node(shortest_text(v)); }
};

template <>
struct Codec<bool> {
  static constexpr KeyKind kind = KeyKind::kBool;
  static bool decode(const YAML::Node& n) {
    bool v = false;
    parse_bool(n.Scalar(), v);
    return v;
  }
  static YAML::Node encode(bool v) { return YAML::Node(v ? "true" : "false"); }
};

template <>
struct Codec<std::string> {
  static constexpr KeyKind kind = KeyKind::kString;
  static std::string decode(const YAML::Node& n) { return n.Scalar(); }
  static YAML::Node encode(const std::string& v) { return YAML::Node(v); }
};

YAML::Node flow_list(const std::vector<std::string>& items);

template <>
struct Codec<std::vector<std::string>> {
  static constexpr KeyKind kind = KeyKind::kStringList;
  static std::vector<std::string> decode(const YAML::Node& n) {
    std::vector<std::string> out;
    for (const auto& item : n) out.push_back(item.Scalar());
    return out;
  }
  static YAML::Node encode(const std::vector<std::string>& v) { return flow_list(v); }
};

template <>
struct Codec<data::TargetColumns> {
  static constexpr KeyKind kind = KeyKind::kListOrString;
  static data::TargetColumns decode(const YAML::Node& n) {
    if (n.IsSequence()) return {Codec<std::vector<std::string>>::decode(n), ""};
    return {{}, n.Scalar()};
  }
  static YAML::Node encode(const data::TargetColumns& v) {
    return v.names.empty() ? YAML::Node(v.prefix) : flow_list(v.names);
  }
};

template <>
struct Codec<train::AutoCount> {
  static constexpr KeyKind kind = KeyKind::kIntOrAuto;
  static train::AutoCount decode(const YAML::Node& n) {
    return {n.Scalar() == "auto" ? 0 : Codec<int64_t>::decode(n)};
  }
  static YAML::Node encode(train::AutoCount v) {
    return v.is_auto() ? YAML::Node("auto") : Codec<int64_t>::encode(v.value);
  }
};

template <typename E>
struct Codec<E, std::enable_if_t<std::is_enum_v<E>>> {
  static constexpr KeyKind kind = KeyKind::kEnum;
  static E decode(const YAML::Node& n) { return *parse_enum<E>(n.Scalar()); }
  static YAML::Node encode(E v) { return YAML::Node(name_of(v)); }
};

template <typename T>
std::vector<std::string> choices_of() {
  if constexpr (std::is_enum_v<T>) {
    return enum_choices<T>();
  } else {
    return {};
  }
}

// One row of the schema: `field` is an accessor (SAFETRAIN_FIELD) returning a reference to the member.
template <typename Field>
KeySpec bind(std::string path, Field field, Range range, std::string help) {
  using T = std::decay_t<decltype(field(std::declval<Config&>()))>;
  KeySpec spec{std::move(path), Codec<T>::kind, range, choices_of<T>(), std::move(help), false, {}, {}};
  spec.read = [field](Config& c, const YAML::Node& node) { field(c) = Codec<T>::decode(node); };
  spec.write = [field](const Config& c) { return Codec<T>::encode(field(c)); };
  return spec;
}

}  // namespace safetrain::config

// The member a key is bound to, as an accessor that works on const and non-const configs.
#define SAFETRAIN_FIELD(member) [](auto& c) -> auto& { return c.member; }
