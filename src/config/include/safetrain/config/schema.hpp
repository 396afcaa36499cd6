#pragma once
// The schema of a safetrain config: one table binding every dotted key to a
// member of an options struct, with its allowed range and a one-line help.
// Defaults are read from a default-constructed Config, so each lives only in
// its struct. Validation, parsing, --print-config and the README's key table
// are all derived from this table.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace safetrain::config {

struct Config;

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

// Inclusive bounds for numbers unless marked exclusive.
struct Range {
  std::optional<double> min, max;
  bool min_exclusive = false;
  static Range any() { return {}; }
  static Range between(double lo, double hi) { return {lo, hi, false}; }
  static Range at_least(double lo) { return {lo, std::nullopt, false}; }
  static Range above(double lo) { return {lo, std::nullopt, true}; }
  static Range above_up_to(double lo, double hi) { return {lo, hi, true}; }
  bool contains(double value) const;
  std::string describe() const;  // "must be between 1 and 1000", "must be > 0"
};

struct KeySpec {
  std::string path;  // dotted, e.g. "training.batch_size"
  KeyKind kind;
  Range range;
  std::vector<std::string> choices;  // for kEnum
  std::string help;
  bool hidden = false;  // test hooks: accepted, not listed in docs
  // Store a validated value into its member, and read the member back as YAML.
  std::function<void(Config&, const YAML::Node&)> read;
  std::function<YAML::Node(const Config&)> write;

  YAML::Node default_value() const;  // write(Config{})
  std::string default_text() const;  // as a config file would spell it
};

const std::vector<KeySpec>& config_schema();
const KeySpec* find_key(const std::string& path);
// Section names ("training", "model", ...) and nested sections.
bool is_section(const std::string& path);
// Keys and sections directly under `section` ("" = top level), for suggestions.
std::vector<std::string> children_of(const std::string& section);

const char* kind_name(KeyKind kind);

// The README's table of keys (markdown), generated from the schema.
std::string markdown_key_table();

}  // namespace safetrain::config
