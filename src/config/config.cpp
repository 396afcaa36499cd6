#include "safetrain/config/config.hpp"

#include <algorithm>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/run_layout.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/config/schema.hpp"

namespace safetrain::config {
namespace {

YAML::Node at(const YAML::Node& tree, const std::string& path) {
  YAML::Node current = tree;
  for (const auto& part : text::split(path, '.')) current.reset(current[part]);
  return current;
}

void check_split(const Config& c) {
  const auto& s = c.data.split;
  const double sum = s.train_fraction + s.val_fraction + s.test_fraction;
  if (sum > 1.0 + 1e-9) {
    std::ostringstream got;
    got << s.train_fraction << " + " << s.val_fraction << " + " << s.test_fraction << " = " << sum;
    throw InputError(c.source + ": data.train_fraction + data.val_fraction + data.test_fraction must be <= 1, got " +
                     got.str());
  }
  if (s.val_fraction <= 0.0) {
    throw InputError(c.source + ": data.val_fraction: must be > 0 (validation drives checkpoints and plots)");
  }
}

void check_run_name_in(const Config& c) {
  if (c.output.run_name.empty()) return;  // a timestamp is chosen
  try {
    check_run_name(c.output.run_name);
  } catch (const InputError& e) {
    throw InputError(c.source + ": " + e.what());
  }
}

// data.csv.delimiter, data.csv.quote and data.csv.decimal: one character each (or auto / tab / no quoting),
// never the same.
void check_csv_dialect(const Config& c) {
  const auto& d = c.data.read.csv;
  const bool named = d.delimiter == "auto" || d.delimiter == "tab" || d.delimiter == "\\t";
  if (!named && (d.delimiter.size() != 1 || d.delimiter == "\n" || d.delimiter == "\r")) {
    throw InputError(c.source + ": data.csv.delimiter: '" + d.delimiter +
                     "' is not auto, tab or one character such as ',' or ';'");
  }
  if (d.quote.size() > 1 || d.quote == "\n" || d.quote == "\r") {
    throw InputError(c.source + ": data.csv.quote: '" + d.quote + "' is not one character (empty: no quoting)");
  }
  if (!d.quote.empty() && d.quote == d.delimiter) {
    throw InputError(c.source + ": data.csv.quote: the same character as data.csv.delimiter ('" + d.quote + "')");
  }
  if (d.decimal != "." && d.decimal != ",") {
    throw InputError(c.source + ": data.csv.decimal: '" + d.decimal + "' is not . or ,");
  }
  if (d.decimal == d.delimiter) {
    throw InputError(c.source + ": data.csv.decimal: the same character as data.csv.delimiter ('" + d.decimal + "')");
  }
}

// data.split_column / data.group_column: read as text beside the table, which the mapped cache does not hold.
void check_own_split(const Config& c) {
  const auto& split = c.data.split;
  if (!split.split_column.empty() && !split.group_column.empty()) {
    throw InputError(c.source + ": data.split_column and data.group_column: set one of them (the split column already "
                     "places every row)");
  }
  const std::string& own = split.split_column.empty() ? split.group_column : split.split_column;
  if (own.empty()) return;
  const char* key = split.split_column.empty() ? "data.group_column" : "data.split_column";
  if (c.data.source != data::DataSource::csv) {
    throw InputError(c.source + ": " + key + ": needs a table (data.source: csv)");
  }
  if (c.data.storage == data::Storage::mmap) {
    throw InputError(c.source + ": " + key + ": not supported with data.storage: mmap (the cache holds numbers only); "
                     "use data.storage: memory, or leave it empty for a seeded random split");
  }
  if (std::find(c.data.features.begin(), c.data.features.end(), own) != c.data.features.end()) {
    throw InputError(c.source + ": " + key + ": column '" + own + "' is also listed in data.features; a split or group "
                     "column is never a feature");
  }
}

void check_cross_key_rules(const Config& c) {
  check_split(c);
  check_run_name_in(c);
  if (c.data.source == data::DataSource::csv && c.data.path.empty()) {
    throw InputError(c.source + ": data.path: required when data.source is csv");
  }
  if (c.data.source == data::DataSource::synthetic && !c.data.path.empty()) {
    // Never train on the synthetic arm when the user named a file.
    throw InputError(c.source + ": data.path is set (" + c.data.path +
                     ") but data.source is synthetic; set data.source: csv to train on the file, or clear data.path");
  }
  if (c.data.storage == data::Storage::mmap && c.data.source != data::DataSource::csv) {
    throw InputError(c.source + ": data.storage: mmap maps a converted table file; set data.source: csv or "
                     "data.storage: memory");
  }
  check_csv_dialect(c);
  if (c.data.storage == data::Storage::mmap && !c.data.id_columns.empty()) {
    throw InputError(c.source + ": data.id_columns: not carried with data.storage: mmap (the cache holds numbers only); "
                     "use data.storage: memory to have them in the predictions files");
  }
  check_own_split(c);
  if (c.data.targets.names.empty() && c.data.targets.prefix.empty()) {
    throw InputError(c.source + ": data.targets: name at least one target column");
  }
  if (c.model.type == models::ModelFamily::transformer) {
    const std::string heads = models::heads_width_problem(c.model);
    if (!heads.empty()) throw InputError(c.source + ": " + heads);
  }
}

void warn_about_ignored_settings(const Config& c) {
  const auto& m = c.monitor;
  if (!m.enabled && (m.warn_rss_mb > 0 || m.critical_rss_mb > 0 || m.warn_device_mb > 0 || m.critical_device_mb > 0)) {
    log::warn(c.source, ": monitor.enabled is false, so the monitor.*_mb thresholds set here have no effect");
  }
}

}  // namespace

Config make_config(const YAML::Node& tree, const std::string& source) {
  Config c;
  c.source = source;
  for (const auto& spec : config_schema()) {
    const YAML::Node node = at(tree, spec.path);
    if (!node) throw InputError(source + ": " + spec.path + ": missing from the resolved config");
    validate_value(spec, node, source);
    spec.read(c, node);
  }
  check_cross_key_rules(c);
  warn_about_ignored_settings(c);
  return c;
}

}  // namespace safetrain::config
