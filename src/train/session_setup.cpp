// TrainingSession: construction and setup (data, model, optimizer, callbacks, monitor, resume).
#include <algorithm>
#include <cstdlib>
#include <thread>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/train/callbacks.hpp"
#include "safetrain/train/data_stage.hpp"
#include "safetrain/train/device.hpp"
#include "safetrain/train/input_fingerprint.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/device.hpp"
#include "safetrain/train/optimization.hpp"
#include "safetrain/train/run_files.hpp"
#include "safetrain/models/state_dict.hpp"
#include "forecast_stage.hpp"
#include "session_state.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {
using config::Config;
namespace {

// "a, b, c" - at most 24 names, then how many more (features.json has them all).
std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 24; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 24) out += ", ... (" + std::to_string(names.size() - 24) + " more)";
  return out;
}

data::LoaderOptions loader_options(const Config& c, bool shuffle, const torch::Device& device, const RankGroup& ranks) {
  data::LoaderOptions o;
  o.batch_size = c.training.batch_size;
  o.shuffle = shuffle;
  o.drop_last = shuffle && c.data.drop_last;
  o.workers = c.data.workers;
  o.seed = c.seed;
  o.pin_memory = device.is_cuda();
  // Training pads the ranks' shards to equal length (the same steps everywhere); evaluation counts each row once.
  o.shard = {ranks.rank(), ranks.world_size(), /*pad=*/shuffle};
  return o;
}

void log_runtime(const TrainingSession::State& s) {
  log::info("run directory: ", s.layout.root().string());
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  log::info("device: ", s.device.str(), ", ", torch::get_num_threads(), " intra-op threads (OMP_WAIT_POLICY=",
            wait_policy ? wait_policy : "unset", "); ", s.precision.explanation);
}

// features.json, and the resolved config names the features actually used (not `features: []`), so the
// saved config.yaml and every checkpoint rebuild the same inputs without rerunning the pruner.
void record_features(TrainingSession::State& s, const FeatureSelection& selection) {
  if (s.ranks->is_writer()) write_features_json(s.layout.features_json(), selection, s.data);
  log::info("features (", s.data.feature_names.size(), "): ", join(s.data.feature_names), "; targets: ",
            join(s.data.target_names));
  if (!s.config.data.features.empty()) return;
  s.config.data.features = s.data.feature_names;
  YAML::Node list(YAML::NodeType::Sequence);
  for (const auto& name : s.data.feature_names) list.push_back(name);
  list.SetStyle(YAML::EmitterStyle::Flow);
  s.config.tree["data"]["features"] = list;
  if (s.ranks->is_writer()) write_file_atomically(s.layout.config(), config::to_yaml(s.config.tree));
}

// Metrics on a handful of rows mislead (R² -2143 on 2 test rows): refuse a split under 2 rows, warn under 30.
void check_split_sizes(const data::PreparedData& d, const data::SplitOptions& split, const std::string& source) {
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
FeatureSelection shared_selection(TrainingSession::State& s, const std::function<FeatureSelection()>& select) {
  const auto text = s.ranks->share_from_writer(
      "feature_selection",
      [&] {
        const auto selection = select();
        return nlohmann::json{{"features", selection.features}, {"summary", selection.summary},
                              {"selected_by", selection.selected_by}, {"decisions", selection.decisions}}.dump();
      },
      std::chrono::hours(24));
  const auto json = nlohmann::json::parse(text);
  return {json.at("features").get<std::vector<std::string>>(), json.at("summary").get<std::string>(),
          json.at("selected_by").get<std::string>(), json.at("decisions")};
}

fs::path descriptor_cache_dir(const config::Config& c) { return fs::path(c.output.dir) / ".cache" / "descriptors"; }

struct LoadedData {
  FeatureSelection selection;
  std::string source;  // file, glob or generator, for messages
};

// data.storage: memory. The table's buffer becomes the training split.
LoadedData load_into_memory(TrainingSession::State& s) {
  const auto& c = s.config;
  auto table = load_table(c);
  log::info("data: ", table.values.size(0), " rows x ", table.columns.size(), " columns from ", table.source);
  const auto selection =
      shared_selection(s, [&] { return select_features(c, table, descriptor_cache_dir(c), s.monitor.get()); });
  log::info(selection.summary);
  std::string source = table.source;
  s.data = prepare_data(c, std::move(table), selection);
  return {selection, source};
}

// `make` on rank 0 first (it writes a cache), then on the other ranks (they map what rank 0 wrote).
template <typename Result>
Result writer_first(TrainingSession::State& s, const std::string& key, const std::function<Result()>& make) {
  std::optional<Result> made;
  s.ranks->share_from_writer(key, [&] { made = make(); return std::string(); }, std::chrono::hours(24));
  return made ? std::move(*made) : make();
}

// data.storage: mmap. The split tensors are views of mapped cache files; this process holds no copy of the table.
LoadedData load_mapped(TrainingSession::State& s) {
  const auto& c = s.config;
  const auto table = writer_first<data::MappedTable>(s, "data_table", [&] { return map_table(c); });
  log::info("data: ", table.values.size(0), " rows x ", table.columns.size(), " columns from ", table.source,
            " (memory-mapped from ", data_cache_dir(c).string(), ")");
  const auto selection = shared_selection(s, [&] {
    return select_features(c, table.columns, table.source, table.split_values(0), descriptor_cache_dir(c),
                           s.monitor.get());
  });
  log::info(selection.summary);
  s.data = writer_first<data::PreparedData>(s, "data_prepared", [&] { return prepare_mapped_data(c, table, selection); });
  return {selection, table.source};
}

void load_data(TrainingSession::State& s) {
  const auto& c = s.config;
  monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::load);
  const auto [selection, source] = c.data.storage == data::Storage::mmap ? load_mapped(s) : load_into_memory(s);
  record_features(s, selection);
  log::info("split: ", s.data.train.size(), " train / ", s.data.val.size(), " val / ", s.data.test.size(),
            " test rows; ", s.data.feature_names.size(), " features -> ", s.data.target_names.size(), " targets");
  check_split_sizes(s.data, c.data.split, source);
  s.input = input_fingerprint(c, s.data);
  if (s.monitor) s.monitor->set_known_bytes("data", data_bytes(s.data));
  s.train_loader = std::make_unique<data::Loader>(s.data.train, loader_options(c, true, s.device, *s.ranks));
  s.val_loader = std::make_unique<data::Loader>(s.data.val, loader_options(c, false, s.device, *s.ranks));
  if (s.data.test.size() > 0) {
    s.test_loader = std::make_unique<data::Loader>(s.data.test, loader_options(c, false, s.device, *s.ranks));
  }
}

void make_meters(TrainingSession::State& s) {
  const auto& c = s.config;
  const int64_t targets = static_cast<int64_t>(s.data.target_names.size());
  s.val.buffer = std::make_unique<eval::OutputBuffer>(c.memory.max_validation_outputs, targets, c.seed);
  s.test.buffer = std::make_unique<eval::OutputBuffer>(c.memory.max_test_outputs, targets, c.seed + 1);
  // The averaged figures are in the loss's units (run_layout.hpp): each target divided by its training std.
  const auto std = s.data.target_scaler.std.to(torch::kDouble).contiguous().flatten();
  const std::vector<double> scales(std.data_ptr<double>(), std.data_ptr<double>() + std.numel());
  s.val.metrics = std::make_unique<eval::StreamingMetrics>(s.data.target_names, scales);
  s.test.metrics = std::make_unique<eval::StreamingMetrics>(s.data.target_names, scales);
  s.val.pieces = {c.training.on_oom, 0, c.debug.inject_eval_oom, "validation"};
  s.test.pieces = {c.training.on_oom, 0, false, "test"};
}

// Rank 0 creates (or, on --resume, reuses) the run directory and names it to the other ranks, which write
// only their memory CSV there.
void open_run_dir(TrainingSession::State& s) {
  const auto& c = s.config;
  const auto root = s.ranks->share_from_writer(
      "run_dir",
      [&] {
        return (s.options.run_dir.empty() ? create_run_dir(c.output.dir, c.output.run_name) : s.options.run_dir).string();
      },
      std::chrono::minutes(10));
  s.layout = RunLayout(root);
  if (!s.ranks->is_writer()) {
    fs::create_directories(s.layout.root());  // another machine may not share the file system
    return;
  }
  fs::create_directories(s.layout.root());  // a caller may name a run directory not yet made (memleak_check)
  s.run_lock = std::make_unique<RunDirLock>(s.layout.writer_lock());  // before anything is written into it
  s.layout.create_directories();
  // A previous writer killed outright (a second signal, SIGKILL) left its temporary files.
  int abandoned = 0;
  for (const auto& dir : {s.layout.root(), s.layout.plots(), s.layout.predictions()}) {
    abandoned += remove_abandoned_temporaries(dir);
  }
  if (abandoned > 0) log::info("removed ", abandoned, " temporary file(s) a stopped run left behind");
  write_file_atomically(s.layout.config(), config::to_yaml(c.tree));
}

// Ranks on one machine share its cores: with threads auto, each takes its share (torchrun's LOCAL_WORLD_SIZE).
void apply_rank_threads(const TrainingSession::State& s) {
  AutoCount threads = s.config.training.threads;
  const char* local_world = std::getenv("LOCAL_WORLD_SIZE");
  if (s.ranks->distributed() && threads.is_auto() && local_world && std::atoi(local_world) > 1) {
    threads.value = std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()) / std::atoi(local_world));
  }
  apply_threads(threads);
}

// What every rank of a data-parallel run must share: the config (less what is a machine's own: output,
// monitoring and memory thresholds, logging, test hooks, threads and loader workers), the rows and the
// parameter shapes.
nlohmann::json agreement_record(const TrainingSession::State& s) {
  YAML::Node shared = YAML::Clone(s.config.tree);
  for (const char* section : {"output", "monitor", "memory", "logging", "debug"}) shared.remove(section);
  for (const char* key : {"threads", "device"}) shared["training"].remove(key);
  for (const char* key : {"num_workers", "max_workers", "prefetch_batches"}) shared["data"].remove(key);
  nlohmann::json shapes = nlohmann::json::array();
  for (const auto& p : s.model->parameters()) shapes.push_back(p.sizes().vec());
  return {{"config", config::to_yaml(shared)},
          {"data", {{"rows_hash", s.input.at("rows_hash")}, {"split_rows", s.input.at("split_rows")}}},
          {"parameter shapes", shapes}};
}

void build_model(TrainingSession::State& s, const std::optional<infer::CheckpointMeta>& resume) {
  const auto& c = s.config;
  {
    monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::build);
    const auto spec = infer::model_spec_from(c, static_cast<int64_t>(s.data.feature_names.size()), s.data.target_names);
    s.model = infer::build_checked_model(spec, c, s.device);
    if (resume) models::load_state_dict(*s.model, resume->dir / "model.pt", /*strict=*/true);
  }
  // Before the first collective on the weights: ranks that disagree end here, with one message, not in Gloo.
  s.ranks->check_agreement(agreement_record(s));
  s.ranks->broadcast_module(*s.model);  // every rank starts from rank 0's weights
  s.optimizer = make_optimizer(c.training, s.model->parameters());
  s.ranks->attach_parameters(s.model->parameters(), c.training.ddp_bucket_mb);
}

// A run that fails before training (bad data, a model that does not fit) leaves no directory behind: an empty
// one would push the retry to <name>-2. Only a directory this session created; a resumed run's stays.
void discard_new_run_dir(TrainingSession::State& s) {
  if (!s.options.run_dir.empty() || !s.ranks->is_writer() || s.layout.root().empty()) return;
  if (s.monitor) s.monitor->stop();  // it writes memory.csv there
  s.run_lock.reset();
  std::error_code ignored;
  fs::remove_all(s.layout.root(), ignored);
}

}  // namespace

TrainingSession::TrainingSession(Config config, SessionOptions options)
    : state_(std::make_unique<State>(std::move(config), std::move(options))) {}

TrainingSession::~TrainingSession() {
  if (state_ && state_->monitor) state_->monitor->stop();
}

const fs::path& TrainingSession::run_dir() const { return state_->layout.root(); }

void TrainingSession::add_callback(std::unique_ptr<Callback> callback) { state_->callbacks.add(std::move(callback)); }

void TrainingSession::setup() {
  auto& s = *state_;
  const auto& c = s.config;
  s.device = models::resolve_device(c.training.device);
  s.ranks = RankGroup::from_environment(c, s.device.is_cuda());
  if (s.device.is_cuda() && s.ranks->distributed()) s.device = torch::Device(torch::kCUDA, s.ranks->local_rank());
  std::optional<infer::CheckpointMeta> resume;
  if (s.options.resume) {
    resume = infer::read_checkpoint_meta(*s.options.resume);
    s.check_world_size(*resume);  // before anything is written into the run
  }
  open_run_dir(s);
  torch::manual_seed(c.seed);
  apply_rank_threads(s);
  s.precision = plan_precision(c.training.precision, s.device);
  log_runtime(s);
  if (const auto budget = apply_device_budget(s.device, c.memory.device_budget_mb); !budget.empty()) log::info(budget);
  if (c.monitor.enabled) {
    auto options = c.monitor;
    options.csv_path = s.layout.memory_csv(s.ranks->rank(), s.ranks->world_size());
    s.monitor = std::make_unique<monitor::MemoryMonitor>(options);
    s.monitor->start();
  }
  try {
    check_memory_forecast(s);
    load_data(s);
    build_model(s, resume);
  } catch (...) {
    discard_new_run_dir(s);
    throw;
  }
  GradScalerOptions scaler_options;
  scaler_options.enabled = s.precision.loss_scaling;
  s.scaler = std::make_unique<GradScaler>(scaler_options);
  s.callbacks = default_callbacks(c, *s.optimizer, {s.ranks->rank(), s.ranks->is_writer()});
  if (s.ranks->distributed()) s.callbacks.add(std::make_unique<DistributedCallback>(*s.ranks));
  s.context = std::make_unique<FitContext>(FitContext{c, s.layout, s.monitor.get(), *s.model, s.device, s.counters,
                                                      [&s](const fs::path& dir) { s.save(dir); },
                                                      s.data.target_names});
  if (resume) s.load_components(*resume);
  make_meters(s);
}

}  // namespace safetrain::train
