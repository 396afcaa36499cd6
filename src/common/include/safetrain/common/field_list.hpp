#pragma once
// One field list per struct. A struct whose fields are written somewhere (JSON, a cache key, a report)
// lists them once, next to its declaration, as a visitor found by argument-dependent lookup:
//
//   template <class Self, class Visit>
//   fields::ListOf<Self, DescriptorOptions> for_each_field(Self& o, Visit&& visit) {
//     visit("rdc_k", o.rdc_k, fields::setting);      // part of what the struct means
//     visit("batch_rows", o.batch_rows, fields::tuning);  // how, not what: left out of result keys
//     visit("checkpoint_dir", o.checkpoint_dir, fields::transient);  // a runtime handle: never written
//   }
//
// Everything that writes the struct walks that list (to_json / from_json / result_key_json below), so a field
// is in all of them or in none. `listed_field_count` against `aggregate_field_count` (a test per struct) fails
// when a member is added to the struct and not to its list.
#include <algorithm>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "safetrain/common/enum_names.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/parse_setting.hpp"
#include "safetrain/common/text.hpp"

namespace safetrain::fields {

struct Setting {};    // changes what the struct describes: written everywhere, part of result keys
struct Tuning {};     // changes how (batch sizes, memory bounds), not the result: written, not in result keys
struct Transient {};  // a runtime handle (a callback, a scratch path): never written
inline constexpr Setting setting{};
inline constexpr Tuning tuning{};
inline constexpr Transient transient{};

// The return type of a struct's for_each_field: void, and only for that struct (const or not).
template <class Self, class T>
using ListOf = std::enable_if_t<std::is_same_v<std::remove_const_t<Self>, T>>;

// How many fields aggregate initialisation of T accepts: its members (and each base class as one).
namespace detail {
struct AnyField {
  template <class T>
  operator T() const;  // unevaluated only
};
template <class T, class... Fields>
auto initialisable(int) -> decltype(void(T{std::declval<Fields>()...}), std::true_type{});
template <class T, class... Fields>
std::false_type initialisable(...);
template <class T, size_t... I>
constexpr bool initialisable_with(std::index_sequence<I...>) {
  return decltype(initialisable<T, decltype((void)I, AnyField{})...>(0))::value;
}
}  // namespace detail

template <class T, size_t N = 0>
constexpr size_t aggregate_field_count() {
  static_assert(std::is_aggregate_v<T>, "a field-listed struct is an aggregate");
  if constexpr (detail::initialisable_with<T>(std::make_index_sequence<N + 1>{})) {
    return aggregate_field_count<T, N + 1>();
  } else {
    return N;
  }
}

template <class T>
size_t listed_field_count(const T& value) {
  size_t count = 0;
  for_each_field(value, [&](const char*, const auto&, auto) { ++count; });
  return count;
}

template <class T>
std::vector<std::string> field_names(const T& value) {
  std::vector<std::string> names;
  for_each_field(value, [&](const char* name, const auto&, auto) { names.emplace_back(name); });
  return names;
}

namespace detail {
template <class E, class = void>
struct HasEnumNames : std::false_type {};
template <class E>
struct HasEnumNames<E, std::void_t<decltype(enum_names(E{}))>> : std::true_type {};

template <class M>
nlohmann::json member_json(const M& member) {
  if constexpr (std::is_enum_v<M> && HasEnumNames<M>::value) {
    return name_of(member);  // enums by name, as the config spells them
  } else {
    return nlohmann::json(member);
  }
}

template <class Tag>
constexpr bool written = !std::is_same_v<Tag, Transient>;
}  // namespace detail

// Every written field (setting and tuning), numbers as numbers, enums by name.
template <class T>
nlohmann::json to_json(const T& value) {
  nlohmann::json out = nlohmann::json::object();
  for_each_field(value, [&](const char* name, const auto& member, auto tag) {
    if constexpr (detail::written<decltype(tag)>) out[name] = detail::member_json(member);
  });
  return out;
}

// The setting fields alone: what a result computed from the struct depends on. Serialised (sorted keys,
// shortest round-trip numbers) it is the text a result cache key hashes, so a new setting changes the key.
template <class T>
nlohmann::json result_key_json(const T& value) {
  nlohmann::json out = nlohmann::json::object();
  for_each_field(value, [&](const char* name, const auto& member, auto tag) {
    if constexpr (std::is_same_v<decltype(tag), Setting>) out[name] = detail::member_json(member);
  });
  return out;
}

// Reads the written fields present in `in` into `value` (absent ones keep theirs). An unknown key is an
// InputError with a did-you-mean; a mistyped value names "<what> key '<name>'"; a wrong enum name names
// "<enum_key_prefix><name>" with the accepted names (parse_setting).
template <class T>
void from_json(const nlohmann::json& in, T& value, const std::string& what, const std::string& enum_key_prefix) {
  if (!in.is_object()) throw InputError(what + ": expected a JSON object");
  std::vector<std::string> known;
  for_each_field(value, [&](const char* name, const auto&, auto tag) {
    if constexpr (detail::written<decltype(tag)>) known.emplace_back(name);
  });
  for (const auto& item : in.items()) {
    if (std::find(known.begin(), known.end(), item.key()) != known.end()) continue;
    std::string message = what + ": unknown key '" + item.key() + "'";
    const std::string guess = text::closest_match(item.key(), known);
    if (!guess.empty()) message += "; did you mean '" + guess + "'?";
    throw InputError(message);
  }
  for_each_field(value, [&](const char* name, auto& member, auto tag) {
    if constexpr (detail::written<decltype(tag)>) {
      if (!in.contains(name)) return;
      using M = std::decay_t<decltype(member)>;
      try {
        if constexpr (std::is_enum_v<M> && detail::HasEnumNames<M>::value) {
          member = parse_setting<M>(enum_key_prefix + name, in.at(name).template get<std::string>());
        } else {
          member = in.at(name).template get<M>();
        }
      } catch (const nlohmann::json::exception& e) {
        throw InputError(what + " key '" + name + "': " + e.what());
      }
    }
  });
}

}  // namespace safetrain::fields
