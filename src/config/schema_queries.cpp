// Questions asked of the schema table: lookups, suggestions, defaults, docs.
#include <algorithm>
#include <set>
#include <sstream>

#include "binding.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/config/schema.hpp"

namespace safetrain::config {

YAML::Node flow_list(const std::vector<std::string>& items) {
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& item : items) list.push_back(item);
  list.SetStyle(YAML::EmitterStyle::Flow);
  return list;
}

bool Range::contains(double value) const {
  if (min && (min_exclusive ? value <= *min : value < *min)) return false;
  return !(max && value > *max);
}

std::string Range::describe() const {
  std::ostringstream out;
  if (min && max && !min_exclusive) out << "must be between " << *min << " and " << *max;
  else if (min && max) out << "must be > " << *min << " and <= " << *max;
  else if (min) out << "must be " << (min_exclusive ? "> " : ">= ") << *min;
  else if (max) out << "must be <= " << *max;
  return out.str();
}

YAML::Node KeySpec::default_value() const {
  static const Config defaults;
  return write(defaults);
}

std::string KeySpec::default_text() const {
  const YAML::Node node = default_value();
  if (node.IsScalar()) return node.Scalar().empty() ? "\"\"" : node.Scalar();
  return text::trim(to_yaml(node));
}

YAML::Node typed_tree(const Config& config) {
  YAML::Node root(YAML::NodeType::Map);
  for (const auto& spec : config_schema()) {
    const YAML::Node value = spec.write(config);
    // A test hook (debug.*) is written only when set: a run's config.yaml and its checkpoints then carry it, so a
    // resumed run or `predict --checkpoint` behaves as the run did (resume tests reset it with --set), while
    // an ordinary run's files and --print-config show no undocumented keys. Left out, it reads back as its default.
    if (spec.hidden && to_yaml(value) == to_yaml(spec.default_value())) continue;
    const auto parts = text::split(spec.path, '.');
    YAML::Node section = root;
    // reset() rebinds the handle; plain assignment would overwrite the parent's value.
    for (size_t i = 0; i + 1 < parts.size(); ++i) section.reset(section[parts[i]]);
    section[parts.back()] = value;
  }
  return root;
}

std::string typed_yaml(const Config& config) { return to_yaml(typed_tree(config)); }

const KeySpec* find_key(const std::string& path) {
  for (const auto& spec : config_schema()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

bool is_section(const std::string& path) {
  const std::string prefix = path + ".";
  return std::any_of(config_schema().begin(), config_schema().end(),
                     [&](const KeySpec& s) { return s.path.rfind(prefix, 0) == 0; });
}

std::vector<std::string> children_of(const std::string& section) {
  const std::string prefix = section.empty() ? "" : section + ".";
  std::set<std::string> names;
  for (const auto& spec : config_schema()) {
    if (spec.path.rfind(prefix, 0) != 0) continue;
    const std::string rest = spec.path.substr(prefix.size());
    names.insert(rest.substr(0, rest.find('.')));
  }
  return {names.begin(), names.end()};
}

const char* kind_name(KeyKind kind) {
  switch (kind) {
    case KeyKind::kInt: return "an integer";
    case KeyKind::kFloat: return "a number";
    case KeyKind::kBool: return "true or false";
    case KeyKind::kString: return "a string";
    case KeyKind::kEnum: return "one of the listed values";
    case KeyKind::kStringList: return "a list of strings";
    case KeyKind::kListOrString: return "a list of strings or one string";
    case KeyKind::kIntOrAuto: return "an integer or auto";
  }
  return "?";
}

namespace {

std::string allowed_text(const KeySpec& spec) {
  if (spec.kind == KeyKind::kEnum) {
    std::string list;
    for (const auto& c : spec.choices) list += (list.empty() ? "" : " \\| ") + ("`" + c + "`");
    return list;
  }
  std::string text = spec.range.describe();
  if (text.rfind("must be ", 0) == 0) text = text.substr(8);
  if (spec.kind == KeyKind::kIntOrAuto) text = "`auto` or " + text;
  return text.empty() ? kind_name(spec.kind) : text;
}

}  // namespace

std::string markdown_key_table() {
  std::ostringstream out;
  out << "| key | default | allowed | what it does |\n|---|---|---|---|\n";
  for (const auto& spec : config_schema()) {
    if (spec.hidden) continue;
    out << "| `" << spec.path << "` | `" << spec.default_text() << "` | " << allowed_text(spec) << " | " << spec.help
        << " |\n";
  }
  return out.str();
}

}  // namespace safetrain::config
