#include "run_tables.hpp"

#include "safetrain/config/derived.hpp"
#include "safetrain/data/leak_checks.hpp"
#include "safetrain/data/synthetic_arm.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

ColumnSelection column_selection(const config::Config& config, const FeatureSelection& selection) {
  ColumnSelection columns;
  columns.targets = config.data.targets.names;
  columns.target_prefix = config.data.targets.prefix;
  columns.features = selection.features;
  return columns;
}

}  // namespace

SplitOptions split_options(const config::Config& config) {
  SplitOptions o = config.data.split;
  o.seed = config.seed;
  return o;
}

Table load_table(const config::Config& config) {
  if (config.data.source == DataSource::csv) {
    return read_table(config.data.path, config.data.read, config::csv_roles(config));
  }
  SyntheticOptions o = config.data.synthetic;
  o.seed = config.seed;
  return make_synthetic_arm(o);
}

PreparedData prepare_data(const config::Config& config, Table table, const FeatureSelection& selection) {
  // Id-like columns are judged on the raw rows in file order, before prepare() consumes and standardises them.
  const auto id_like = id_like_columns(table.values, {}, table.columns, table.columns);
  auto data = prepare(std::move(table), column_selection(config, selection), split_options(config));
  warn_about_leaks(data, id_like, !config.data.features.empty());
  return data;
}

fs::path data_cache_dir(const config::Config& config) { return fs::path(config.output.dir) / ".cache" / "data"; }

MappedTable map_table(const config::Config& config) {
  return map_source_table(config.data.path, config.data.read, config::csv_roles(config), split_options(config),
                          data_cache_dir(config));
}

PreparedData prepare_mapped_data(const config::Config& config, const MappedTable& table,
                                 const FeatureSelection& selection) {
  // The mapped cache holds the rows in split order: the training rows, put back in file order, judge the ids.
  const auto id_like = id_like_columns(table.split_values(0), table.split_row_ids(0), table.columns, table.columns);
  auto data = prepare_mapped(table, column_selection(config, selection), split_options(config), data_cache_dir(config));
  warn_about_leaks(data, id_like, !config.data.features.empty());
  return data;
}

}  // namespace safetrain::data
