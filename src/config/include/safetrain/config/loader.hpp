#pragma once
// Loads a YAML config: `extends:` one base file, validates every key against
// the schema (errors name file:line:column and the dotted key), applies
// --set overrides, and fills in defaults. Throws safetrain::InputError.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

namespace safetrain::config {

struct KeySpec;

struct Override {
  std::string key;    // dotted path
  std::string value;  // YAML text
};

// Parses "a.b=value" (InputError on a missing '=' or empty key).
Override parse_override(const std::string& text);

struct ResolvedConfig {
  std::filesystem::path file;  // the config named on the command line
  YAML::Node tree;             // every schema key, in schema order, defaults filled in
};

ResolvedConfig load_config(const std::filesystem::path& file, const std::vector<Override>& overrides = {});
// Validates an already parsed document (e.g. one stored in a checkpoint).
ResolvedConfig resolve_from_text(const std::string& yaml_text, const std::string& origin,
                                 const std::vector<Override>& overrides = {});

std::string to_yaml(const YAML::Node& tree);

// Whether `file` (or a base it extends) sets the dotted key itself, not through the defaults.
bool config_sets_key(const std::filesystem::path& file, const std::string& key);

// Checks one value against its key's kind and range; InputError naming origin (file:line:col or --set) and key.
void validate_value(const KeySpec& spec, const YAML::Node& node, const std::string& origin);

}  // namespace safetrain::config
