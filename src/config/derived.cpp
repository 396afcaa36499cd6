#include "safetrain/config/derived.hpp"

#include <algorithm>

#include "safetrain/common/error.hpp"
#include "safetrain/common/text.hpp"

namespace safetrain::config {

bool is_target_column(const data::TargetColumns& targets, const std::string& column) {
  if (!targets.names.empty()) return std::find(targets.names.begin(), targets.names.end(), column) != targets.names.end();
  return !targets.prefix.empty() && column.rfind(targets.prefix, 0) == 0;
}

std::vector<std::string> target_names(const data::TargetColumns& targets, const std::vector<std::string>& columns,
                                      const std::string& source) {
  if (!targets.names.empty()) {
    for (const auto& name : targets.names) {
      if (std::find(columns.begin(), columns.end(), name) != columns.end()) continue;
      const std::string suggestion = text::closest_match(name, columns);
      throw InputError("data.targets: column '" + name + "' is not in " + source +
                       (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
    }
    return targets.names;
  }
  if (targets.prefix.empty()) return {};  // no targets (a table of descriptors alone)
  std::vector<std::string> names;
  for (const auto& c : columns) {
    if (is_target_column(targets, c)) names.push_back(c);
  }
  if (names.empty()) {
    throw InputError("data.targets: no column of " + source + " starts with '" + targets.prefix + "'");
  }
  return names;
}

data::CsvColumnRoles csv_roles(const Config& config) {
  data::CsvColumnRoles roles;
  roles.id_columns = config.data.id_columns;
  // The own-split columns are read as text (never features) and so also reach the predictions files.
  for (const auto* own : {&config.data.split.split_column, &config.data.split.group_column}) {
    if (!own->empty() && std::find(roles.id_columns.begin(), roles.id_columns.end(), *own) == roles.id_columns.end()) {
      roles.id_columns.push_back(*own);
    }
  }
  roles.ignore_columns = config.data.ignore_columns;
  roles.numeric = config.data.targets.names;
  roles.numeric.insert(roles.numeric.end(), config.data.features.begin(), config.data.features.end());
  roles.numeric_prefix = config.data.targets.prefix;
  // Listed features name every column the run uses: the others are never parsed or held.
  roles.only_numeric = !config.data.features.empty();
  // Under the other policies a missing target drops its row and a missing feature is dropped or filled; with the
  // pruner on and no listed features, the pruner decides which columns are used (prepare() refuses those later).
  if (config.data.split.nan_policy == data::NanPolicy::error) {
    const bool every_column = config.data.features.empty() && !config.descriptors.enabled;
    roles.missing = every_column ? data::CsvColumnRoles::MissingCells::refused_in_all
                                 : data::CsvColumnRoles::MissingCells::refused_in_required;
  }
  return roles;
}

data::descriptors::DescriptorOptions descriptor_options(const Config& config, const std::vector<std::string>& columns,
                                                        const std::string& source) {
  data::descriptors::DescriptorOptions o = config.descriptors;
  o.seed = config.seed;
  o.targets = target_names(config.data.targets, columns, source);
  return o;
}

}  // namespace safetrain::config
