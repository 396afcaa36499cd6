#pragma once
// A setting's text parsed into its enum, or an InputError naming the key with
// the accepted names and a did-you-mean, e.g.
//   "model.type: unknown value 'transfomer' (expected one of: mlp transformer); did you mean 'transformer'?"
#include <string>

#include "safetrain/common/enum_names.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/text.hpp"

namespace safetrain {

template <typename E>
E parse_setting(const std::string& key, const std::string& text) {
  if (const auto value = parse_enum<E>(text)) return *value;
  const std::vector<std::string> allowed = enum_choices<E>();
  std::string message = key + ": unknown value '" + text + "' (expected one of:";
  for (const auto& name : allowed) message += " " + name;
  message += ")";
  const std::string guess = text::closest_match(text, allowed);
  if (!guess.empty()) message += "; did you mean '" + guess + "'?";
  throw InputError(message);
}

}  // namespace safetrain
