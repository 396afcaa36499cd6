#include "safetrain/config/loader.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/config/schema.hpp"
#include "value_text.hpp"

namespace safetrain::config {
namespace {

// Where a value came from, for messages: "configs/x.yaml:12:5" or "--set a.b".
std::string where(const std::string& origin, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || origin.rfind("--set", 0) == 0) return origin;
  return origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// A key as it may appear in a message: a config key is a short name; anything else (a line of a file
// that is not a config, e.g. `extends: /etc/shadow`) is never echoed.
std::string printable_key(const std::string& key) {
  const bool name_like = !key.empty() && key.size() <= 80 &&
                         key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
                             std::string::npos;
  return name_like ? key : "(a key that is not a config key name: is this file a safetrain config?)";
}

[[noreturn]] void fail(const std::string& origin, const YAML::Node& node, const std::string& key,
                       const std::string& problem) {
  throw InputError(where(origin, node) + ": " + printable_key(key) + ": " + problem);
}

// A value quoted in a message: short and escaped.
std::string got(const std::string& text) { return "got '" + text::excerpt(text) + "'"; }

void check_range(const KeySpec& spec, double value, const std::string& origin, const YAML::Node& node) {
  if (!spec.range.contains(value)) fail(origin, node, spec.path, spec.range.describe() + ", got " + text::excerpt(node.Scalar()));
}

void check_string_list(const KeySpec& spec, const YAML::Node& node, const std::string& origin) {
  if (!node.IsSequence()) fail(origin, node, spec.path, std::string("expected ") + kind_name(spec.kind));
  for (const auto& item : node) {
    if (!item.IsScalar()) fail(origin, item, spec.path, "every entry must be a string");
  }
}

}  // namespace

void validate_value(const KeySpec& spec, const YAML::Node& node, const std::string& origin) {
  const std::string expected = std::string("expected ") + kind_name(spec.kind);
  switch (spec.kind) {
    case KeyKind::kStringList:
      check_string_list(spec, node, origin);
      return;
    case KeyKind::kListOrString:
      if (node.IsSequence()) check_string_list(spec, node, origin);
      else if (!node.IsScalar() || node.Scalar().empty()) fail(origin, node, spec.path, expected);
      return;
    default:
      break;
  }
  if (!node.IsScalar() || (node.Scalar().empty() && spec.kind != KeyKind::kString)) {
    const char* kind = node.IsMap() ? "a mapping" : node.IsSequence() ? "a list" : "nothing";
    fail(origin, node, spec.path, expected + ", got " + kind);
  }
  const std::string& text = node.Scalar();
  switch (spec.kind) {
    case KeyKind::kIntOrAuto:
      if (text == "auto") return;
      [[fallthrough]];
    case KeyKind::kInt: {
      long long value = 0;
      if (!parse_int(text, value)) fail(origin, node, spec.path, expected + ", " + got(text));
      check_range(spec, static_cast<double>(value), origin, node);
      return;
    }
    case KeyKind::kFloat: {
      double value = 0;
      if (!parse_double(text, value)) fail(origin, node, spec.path, expected + ", " + got(text));
      check_range(spec, value, origin, node);
      return;
    }
    case KeyKind::kBool: {
      bool value = false;
      if (!parse_bool(text, value)) fail(origin, node, spec.path, expected + ", " + got(text));
      return;
    }
    case KeyKind::kEnum: {
      for (const auto& c : spec.choices) {
        if (c == text) return;
      }
      std::string list;
      for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
      fail(origin, node, spec.path, "must be one of: " + list + "; " + got(text));
    }
    default:
      return;
  }
}

namespace {

void validate_map(const YAML::Node& map, const std::string& section, const std::string& origin) {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    const std::string name = entry.first.Scalar();
    const std::string path = section.empty() ? name : section + "." + name;
    // yaml-cpp keeps the first of two equal keys silently; a repeated section would lose settings.
    if (!seen.insert(name).second) fail(origin, entry.first, path, "appears twice; merge the two into one");
    if (section.empty() && name == "extends") continue;
    if (const KeySpec* spec = find_key(path)) {
      validate_value(*spec, entry.second, origin);
    } else if (is_section(path)) {
      if (entry.second.IsNull()) continue;
      if (!entry.second.IsMap()) fail(origin, entry.second, path, "expected a mapping of keys (a section)");
      validate_map(entry.second, path, origin);
    } else {
      const std::string suggestion = text::closest_match(name, children_of(section));
      fail(origin, entry.first, path,
           "unknown key" + (suggestion.empty() ? std::string() : "; did you mean '" + suggestion + "'?"));
    }
  }
}

YAML::Node parse_yaml(const std::string& text, const std::string& origin, bool allow_empty) {
  YAML::Node doc;
  try {
    const auto documents = YAML::LoadAll(text);
    // A second document (after "---") would be ignored silently: its settings would never apply.
    if (documents.size() > 1 && !documents[1].IsNull()) {
      throw InputError(where(origin, documents[1]) + ": a second YAML document (after '---'); a config is one " +
                       "document: merge the two, or use extends");
    }
    if (!documents.empty()) doc = documents[0];
  } catch (const YAML::ParserException& e) {
    throw InputError(origin + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                     ": malformed YAML: " + e.msg);
  }
  if (doc.IsNull()) {
    // An empty or comment-only file is almost always the wrong file: taking it as "all defaults" trains on
    // synthetic data and fails later with a message about something else.
    if (!allow_empty) throw InputError(origin + ": the config is empty (no keys); name a config with settings");
    return YAML::Node(YAML::NodeType::Map);
  }
  if (!doc.IsMap()) throw InputError(origin + ": a config must be a YAML mapping of sections");
  validate_map(doc, "", origin);
  return doc;
}

std::string read_text(const std::filesystem::path& file, const std::string& referrer) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    throw InputError((referrer.empty() ? "" : referrer + ": ") + "config " + file.string() +
                     " is a directory, not a file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw InputError((referrer.empty() ? "" : referrer + ": ") + "cannot read config file " + file.string() +
                     (std::filesystem::exists(file) ? "" : " (no such file)"));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Finds a dotted key inside a document, or an undefined node.
YAML::Node lookup(const YAML::Node& doc, const std::string& path) {
  YAML::Node current = doc;
  for (const auto& part : text::split(path, '.')) {
    if (!current.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node next = current[part];
    if (!next) return YAML::Node(YAML::NodeType::Undefined);
    current.reset(next);  // rebind; plain assignment would overwrite the document
  }
  return current;
}

void assign(YAML::Node& tree, const std::string& path, const YAML::Node& value) {
  const auto parts = text::split(path, '.');
  YAML::Node current = tree;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!current[parts[i]]) current[parts[i]] = YAML::Node(YAML::NodeType::Map);
    current.reset(current[parts[i]]);
  }
  current[parts.back()] = YAML::Clone(value);
}

// Layers (later wins) resolved into a fresh tree holding every schema key, in schema order.
YAML::Node resolve(const std::vector<YAML::Node>& layers) {
  YAML::Node tree(YAML::NodeType::Map);
  for (const auto& spec : config_schema()) {
    YAML::Node value = spec.default_value();
    for (const auto& layer : layers) {
      const YAML::Node found = lookup(layer, spec.path);
      if (found && !found.IsNull()) value.reset(found);
    }
    assign(tree, spec.path, value);
  }
  return tree;
}

YAML::Node overrides_layer(const std::vector<Override>& overrides) {
  YAML::Node layer(YAML::NodeType::Map);
  for (const auto& o : overrides) {
    const std::string origin = "--set " + o.key;
    const KeySpec* spec = find_key(o.key);
    if (!spec && is_section(o.key)) {
      throw InputError(origin + ": " + o.key + " is a section; set one of its keys, e.g. --set " + o.key + "." +
                       children_of(o.key).front() + "=...");
    }
    if (!spec) {
      const auto dot = o.key.rfind('.');
      const std::string section = dot == std::string::npos ? "" : o.key.substr(0, dot);
      const std::string leaf = dot == std::string::npos ? o.key : o.key.substr(dot + 1);
      const std::string suggestion = text::closest_match(leaf, children_of(section));
      throw InputError(origin + ": unknown key" +
                       (suggestion.empty() ? "" : "; did you mean '" + (section.empty() ? "" : section + ".") + suggestion + "'?"));
    }
    // YAML folds a line break into a space: "a\nb" would silently become "a b".
    if (text::escape_control(o.value) != o.value) {
      throw InputError(origin + ": the value holds a line break or control character ('" + text::excerpt(o.value) +
                       "'); settings are one line");
    }
    YAML::Node value;
    try {
      // One character is itself: as YAML, , ' " | # ! and their kin read as nothing, so --set
      // data.csv.quote=' would have meant no quoting.
      value = o.value.size() == 1 && o.value != "~" ? YAML::Node(o.value) : YAML::Load(o.value);
    } catch (const YAML::ParserException& e) {
      throw InputError(origin + ": cannot parse value '" + text::excerpt(o.value) + "': " + e.msg);
    }
    if (value.IsNull()) value = YAML::Node(std::string());
    validate_value(*spec, value, origin);
    assign(layer, o.key, value);
  }
  return layer;
}

// A layer that names a table (data.path) after every layer that sets data.source means that table: a config
// extending the shipped one (data.source: synthetic) with its own path, or --set data.path=..., reads the
// file (`csv`: any table format). A layer that sets data.source: synthetic with or after the path is still
// refused (check_cross_key_rules): the two disagree, and safetrain never trains on the arm by mistake.
void imply_table_source(std::vector<YAML::Node>& layers) {
  std::ptrdiff_t last_source = -1, last_path = -1;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const YAML::Node source = lookup(layers[i], "data.source");
    if (source && !source.IsNull()) last_source = static_cast<std::ptrdiff_t>(i);
    const YAML::Node path = lookup(layers[i], "data.path");
    if (path && path.IsScalar()) last_path = path.Scalar().empty() ? -1 : static_cast<std::ptrdiff_t>(i);
  }
  if (last_path <= last_source) return;
  YAML::Node implied(YAML::NodeType::Map);
  assign(implied, "data.source", YAML::Node(std::string("csv")));
  layers.push_back(implied);
}

ResolvedConfig resolve_layers(std::vector<YAML::Node> layers, const std::filesystem::path& file,
                              const std::vector<Override>& overrides) {
  layers.push_back(overrides_layer(overrides));
  imply_table_source(layers);
  return ResolvedConfig{file, resolve(layers)};
}

}  // namespace

Override parse_override(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError("--set " + text + ": expected key=value, e.g. --set training.batch_size=8");
  }
  return Override{text::trim(text.substr(0, eq)), text.substr(eq + 1)};
}

namespace {

constexpr int kMaxExtendsDepth = 4;

// Base layers first, then `file` itself; `extends` is resolved relative to the file naming it.
void collect_layers(const std::filesystem::path& file, const std::string& referrer, int depth,
                    std::vector<YAML::Node>& layers) {
  const std::string origin = file.string();
  YAML::Node doc = parse_yaml(read_text(file, referrer), origin, /*allow_empty=*/false);
  if (const YAML::Node base_name = doc["extends"]) {
    if (!base_name.IsScalar() || base_name.Scalar().empty()) fail(origin, base_name, "extends", "expected the path of a base config");
    if (depth >= kMaxExtendsDepth) {
      fail(origin, base_name, "extends", "more than " + std::to_string(kMaxExtendsDepth) + " levels (a cycle?)");
    }
    collect_layers(file.parent_path() / base_name.Scalar(), where(origin, base_name) + ": extends", depth + 1, layers);
  }
  layers.push_back(doc);
}

}  // namespace

ResolvedConfig load_config(const std::filesystem::path& file, const std::vector<Override>& overrides) {
  std::vector<YAML::Node> layers;
  collect_layers(file, "", 0, layers);
  return resolve_layers(std::move(layers), file, overrides);
}

ResolvedConfig resolve_from_text(const std::string& yaml_text, const std::string& origin,
                                 const std::vector<Override>& overrides) {
  return resolve_layers({parse_yaml(yaml_text, origin, /*allow_empty=*/true)}, origin, overrides);
}

bool config_sets_key(const std::filesystem::path& file, const std::string& key) {
  std::vector<YAML::Node> layers;
  collect_layers(file, "", 0, layers);
  for (const auto& layer : layers) {
    const YAML::Node found = lookup(layer, key);
    if (found && !found.IsNull()) return true;
  }
  return false;
}

std::string to_yaml(const YAML::Node& tree) {
  YAML::Emitter out;
  out << tree;
  return std::string(out.c_str()) + "\n";
}

}  // namespace safetrain::config
