#include "safetrain/data/data_module.hpp"

#include <optional>
#include <utility>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/monitor/memory_monitor.hpp"
#include "safetrain/data/reader_memory.hpp"
#include "safetrain/monitor/phase.hpp"
#include "run_tables.hpp"

namespace safetrain::data {
namespace {

// "a, b, c" - at most 24 names, then how many more (features.json has them all).
std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 24; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 24) out += ", ... (" + std::to_string(names.size() - 24) + " more)";
  return out;
}

LoaderOptions loader_options(const config::Config& c, bool shuffle, const DataModuleContext& context) {
  LoaderOptions o;
  o.batch_size = c.training.batch_size;
  o.shuffle = shuffle;
  o.drop_last = shuffle && c.data.drop_last;
  o.workers = c.data.workers;
  o.seed = c.seed;
  o.pin_memory = context.pin_memory;
  // Training pads the ranks' shards to equal length (the same steps everywhere); evaluation counts each row once.
  o.shard = {context.ranks.rank, context.ranks.world_size, /*pad=*/shuffle};
  return o;
}

// Metrics on a handful of rows mislead (R² -2143 on 2 test rows): refuse a split under 2 rows, warn under 30.
void check_split_sizes(const PreparedData& d, const SplitOptions& split, const std::string& source) {
  const std::pair<const char*, int64_t> sizes[] = {
      {"train", d.train.size()}, {"val", d.val.size()}, {"test", split.test_fraction > 0 ? d.test.size() : -1}};
  for (const auto& [name, rows] : sizes) {
    if (rows < 0) continue;
    if (rows < 2) {
      throw InputError(source + ": the " + name + " split has " + std::to_string(rows) +
                       " row(s); at least 2 are needed: add rows or raise data." + name + "_fraction");
    }
    if (rows < 30) {
      log::warn("data: the ", name, " split has only ", rows, " rows: its metrics are noisy (R² especially); ",
                "add rows or raise data.", name, "_fraction");
    }
  }
}

// The descriptor stage runs on rank 0 alone; the other ranks wait for its selection (it may take long).
FeatureSelection shared_selection(const RankShare& ranks, const std::function<FeatureSelection()>& select) {
  return selection_from_text(ranks.share_from_writer("feature_selection", [&] { return to_text(select()); }));
}

// `make` on rank 0 first (it writes a cache), then on the other ranks (they map what rank 0 wrote).
template <typename Result>
Result writer_first(const RankShare& ranks, const std::string& key, const std::function<Result()>& make) {
  std::optional<Result> made;
  ranks.share_from_writer(key, [&] { made = make(); return std::string(); });
  return made ? std::move(*made) : make();
}

struct Loaded {
  PreparedData prepared;
  FeatureSelection selection;
  std::string source;  // file, glob or generator, for messages
};

// data.storage: memory. The table's buffer becomes the training split.
Loaded load_into_memory(const config::Config& c, const DataModuleContext& context) {
  auto table = load_table(c);
  log::info("data: ", table.values.size(0), " rows x ", table.columns.size(), " columns from ", table.source);
  auto selection = shared_selection(
      context.ranks, [&] { return select_features(c, table, descriptor_cache_dir(c), context.monitor); });
  log::info(selection.summary);
  std::string source = table.source;
  auto prepared = prepare_data(c, std::move(table), selection);
  return {std::move(prepared), std::move(selection), std::move(source)};
}

// data.storage: mmap. The split tensors are views of mapped cache files; this process holds no copy of the table.
Loaded load_mapped(const config::Config& c, const DataModuleContext& context) {
  const auto table = writer_first<MappedTable>(context.ranks, "data_table", [&] { return map_table(c); });
  log::info("data: ", table.values.size(0), " rows x ", table.columns.size(), " columns from ", table.source,
            " (memory-mapped from ", data_cache_dir(c).string(), ")");
  auto selection = shared_selection(context.ranks, [&] {
    return select_features(c, table.columns, table.source, table.split_values(0), descriptor_cache_dir(c),
                           context.monitor);
  });
  log::info(selection.summary);
  auto prepared = writer_first<PreparedData>(context.ranks, "data_prepared",
                                             [&] { return prepare_mapped_data(c, table, selection); });
  return {std::move(prepared), std::move(selection), table.source};
}

void log_loaded(const PreparedData& d) {
  log::info("features (", d.feature_names.size(), "): ", join(d.feature_names), "; targets: ", join(d.target_names));
  log::info("split: ", d.train.size(), " train / ", d.val.size(), " val / ", d.test.size(), " test rows; ",
            d.feature_names.size(), " features -> ", d.target_names.size(), " targets");
}

}  // namespace

RunData prepare_run_data(const config::Config& c, const DataModuleContext& context) {
  monitor::PhaseScope phase(context.monitor, monitor::Phase::load);
  auto loaded = c.data.storage == Storage::mmap ? load_mapped(c, context) : load_into_memory(c, context);
  release_reader_memory();  // the reader's blocks, kept resident by Arrow's pool (mimalloc) otherwise
  RunData run;
  run.prepared = std::move(loaded.prepared);
  run.selection = std::move(loaded.selection);
  const auto& d = run.prepared;
  if (context.ranks.is_writer() && !context.features_json.empty()) {
    write_features_json(context.features_json, run.selection, d);
  }
  log_loaded(d);
  check_split_sizes(d, c.data.split, loaded.source);
  if (context.monitor) context.monitor->set_known_bytes("data", data_bytes(d));
  run.train_loader = std::make_unique<Loader>(d.train, loader_options(c, true, context));
  run.val_loader = std::make_unique<Loader>(d.val, loader_options(c, false, context));
  if (d.test.size() > 0) run.test_loader = std::make_unique<Loader>(d.test, loader_options(c, false, context));
  return run;
}

int64_t data_bytes(const PreparedData& d) {
  const auto bytes_of = [](const torch::Tensor& t) {
    return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : int64_t{0};
  };
  int64_t bytes = 0;
  for (const auto* s : {&d.train, &d.val, &d.test}) bytes += bytes_of(s->x) + bytes_of(s->y) + bytes_of(s->row_ids);
  return bytes;
}

}  // namespace safetrain::data
