#pragma once
// The schema of a safetrain config: every key the trainer reads, its type,
// default, allowed range and a one-line description. Loading validates user
// YAML against it; --print-config and the docs are derived from it.
#include <optional>
#include <string>
#include <vector>

namespace safetrain::train {

enum class KeyKind {
  kInt,
  kFloat,
  kBool,
  kString,
  kEnum,          // a string from `choices`
  kStringList,    // a YAML sequence of strings
  kListOrString,  // a sequence of strings, or one string (e.g. a column prefix)
  kIntOrAuto,     // an integer, or the word "auto"
};

struct KeySpec {
  std::string path;           // dotted, e.g. "training.batch_size"
  KeyKind kind;
  std::string default_value;  // YAML text of the default
  std::optional<double> min;  // inclusive bounds for numbers
  std::optional<double> max;
  std::vector<std::string> choices;  // for kEnum
  std::string help;
  bool hidden = false;        // test hooks: accepted, not shown in docs
};

const std::vector<KeySpec>& config_schema();
const KeySpec* find_key(const std::string& path);
// Section names ("training", "model", ...) and nested sections.
bool is_section(const std::string& path);
// Keys and sections directly under `section` ("" = top level), for suggestions.
std::vector<std::string> children_of(const std::string& section);

const char* kind_name(KeyKind kind);

}  // namespace safetrain::train
