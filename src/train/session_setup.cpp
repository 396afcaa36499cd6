// TrainingSession: construction and setup (run directory, monitor, data, model, optimizer, callbacks, resume).
#include <algorithm>
#include <cstdlib>
#include <thread>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/data/data_module.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/train/callbacks.hpp"
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

void log_runtime(const RunResources& run, const PrecisionPlan& precision) {
  log::info("run directory: ", run.layout.root().string());
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  log::info("device: ", run.device.str(), ", ", torch::get_num_threads(), " intra-op threads (OMP_WAIT_POLICY=",
            wait_policy ? wait_policy : "unset", "); ", precision.explanation);
}

// What the data module needs of the run: the ranks (rank 0 alone prunes and writes the caches; the others may
// wait long for it), the device's pinned batches, the monitor and where features.json goes.
data::DataModuleContext data_context(const RunResources& run) {
  data::DataModuleContext context;
  RankGroup* ranks = run.ranks.get();
  context.ranks.rank = ranks->rank();
  context.ranks.world_size = ranks->world_size();
  context.ranks.share_from_writer = [ranks](const std::string& key, const std::function<std::string()>& compute) {
    return ranks->share_from_writer(key, compute, std::chrono::hours(24));
  };
  context.pin_memory = run.device.is_cuda();
  context.monitor = run.monitor.get();
  context.features_json = run.layout.features_json();
  return context;
}

// The typed config is the one source of what is written (config::typed_yaml): rank 0 saves it as config.yaml
// when the run directory opens, and again once the data module has chosen the features.
void write_run_config(const RunResources& run) {
  if (run.ranks->is_writer()) write_file_atomically(run.layout.config(), config::typed_yaml(run.config));
}

// The resolved config names the features actually used (not `features: []`), so the saved config.yaml and every
// checkpoint rebuild the same inputs without rerunning the pruner.
void adopt_features(RunResources& run, const std::vector<std::string>& features) {
  if (run.config.data.features.empty()) run.config.data.features = features;
}

void make_meters(Evaluation& evaluation, const Config& c, const data::PreparedData& data) {
  const int64_t targets = static_cast<int64_t>(data.target_names.size());
  evaluation.val.buffer = std::make_unique<eval::OutputBuffer>(c.memory.max_validation_outputs, targets, c.seed);
  evaluation.test.buffer = std::make_unique<eval::OutputBuffer>(c.memory.max_test_outputs, targets, c.seed + 1);
  // The averaged figures are in the loss's units (run_layout.hpp): each target divided by its training std.
  const auto std = data.target_scaler.std.to(torch::kDouble).contiguous().flatten();
  const std::vector<double> scales(std.data_ptr<double>(), std.data_ptr<double>() + std.numel());
  evaluation.val.metrics = std::make_unique<eval::StreamingMetrics>(data.target_names, scales);
  evaluation.test.metrics = std::make_unique<eval::StreamingMetrics>(data.target_names, scales);
  evaluation.val.pieces = {c.training.on_oom, 0, c.debug.inject_eval_oom, "validation"};
  evaluation.test.pieces = {c.training.on_oom, 0, false, "test"};
}

// A previous writer killed outright (a second signal, SIGKILL) left its temporary files.
void remove_abandoned(const RunLayout& layout) {
  int abandoned = 0;
  for (const auto& dir : {layout.root(), layout.plots(), layout.predictions()}) {
    abandoned += remove_abandoned_temporaries(dir);
  }
  if (abandoned > 0) log::info("removed ", abandoned, " temporary file(s) a stopped run left behind");
}

// Rank 0 creates (or, on --resume, reuses) the run directory and names it to the other ranks, which write
// only their memory CSV there.
void open_run_dir(RunResources& run) {
  const auto& c = run.config;
  const auto root = run.ranks->share_from_writer(
      "run_dir",
      [&] {
        return (run.options.run_dir.empty() ? create_run_dir(c.output.dir, c.output.run_name) : run.options.run_dir)
            .string();
      },
      std::chrono::minutes(10));
  run.layout = RunLayout(root);
  if (!run.ranks->is_writer()) {
    fs::create_directories(run.layout.root());  // another machine may not share the file system
    return;
  }
  fs::create_directories(run.layout.root());  // a caller may name a run directory not yet made (memleak_check)
  run.run_lock = std::make_unique<RunDirLock>(run.layout.writer_lock());  // before anything is written into it
  run.layout.create_directories();
  remove_abandoned(run.layout);
  write_run_config(run);
}

// Ranks on one machine share its cores: with threads auto, each takes its share (torchrun's LOCAL_WORLD_SIZE).
void apply_rank_threads(const RunResources& run) {
  AutoCount threads = run.config.training.threads;
  const char* local_world = std::getenv("LOCAL_WORLD_SIZE");
  if (run.ranks->distributed() && threads.is_auto() && local_world && std::atoi(local_world) > 1) {
    threads.value =
        std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()) / std::atoi(local_world));
  }
  apply_threads(threads);
}

void start_monitor(RunResources& run) {
  if (!run.config.monitor.enabled) return;
  auto options = run.config.monitor;
  options.csv_path = run.layout.memory_csv(run.ranks->rank(), run.ranks->world_size());
  run.monitor = std::make_unique<monitor::MemoryMonitor>(options);
  run.monitor->start();
}

// What every rank of a data-parallel run must share: the config (less what is a machine's own: output,
// monitoring and memory thresholds, logging, test hooks, threads and loader workers), the rows and the
// parameter shapes.
nlohmann::json agreement_record(const Config& config, torch::nn::Module& model, const nlohmann::json& input) {
  YAML::Node shared = config::typed_tree(config);
  for (const char* section : {"output", "monitor", "memory", "logging", "debug"}) shared.remove(section);
  for (const char* key : {"threads", "device"}) shared["training"].remove(key);
  for (const char* key : {"num_workers", "max_workers", "prefetch_batches"}) shared["data"].remove(key);
  nlohmann::json shapes = nlohmann::json::array();
  for (const auto& p : model.parameters()) shapes.push_back(p.sizes().vec());
  return {{"config", config::to_yaml(shared)},
          {"data", {{"rows_hash", input.at("rows_hash")}, {"split_rows", input.at("split_rows")}}},
          {"parameter shapes", shapes}};
}

// The model (with the checkpoint's weights on --resume), the same on every rank, and its optimizer.
void build_model(const TrainingSession::State& s, ModelTraining& training,
                 const std::optional<infer::CheckpointMeta>& resume) {
  const auto& run = s.run;
  const auto& c = run.config;
  const auto& data = s.data.prepared;
  {
    monitor::PhaseScope phase(run.monitor.get(), monitor::Phase::build);
    const auto spec = infer::model_spec_from(c, static_cast<int64_t>(data.feature_names.size()), data.target_names);
    training.model = infer::build_checked_model(spec, c, run.device);
    if (resume) models::load_state_dict(*training.model, resume->dir / "model.pt", /*strict=*/true);
  }
  // Before the first collective on the weights: ranks that disagree end here, with one message, not in Gloo.
  run.ranks->check_agreement(agreement_record(c, *training.model, s.input));
  run.ranks->broadcast_module(*training.model);  // every rank starts from rank 0's weights
  training.optimizer = make_optimizer(c.training, training.model->parameters());
  run.ranks->attach_parameters(training.model->parameters(), c.training.ddp_bucket_mb);
}

// A run that fails before training (bad data, a model that does not fit) leaves no directory behind: an empty
// one would push the retry to <name>-2. Only a directory this session created; a resumed run's stays.
void discard_new_run_dir(RunResources& run) {
  if (!run.options.run_dir.empty() || !run.ranks->is_writer() || run.layout.root().empty()) return;
  if (run.monitor) run.monitor->stop();  // it writes memory.csv there
  run.run_lock.reset();
  std::error_code ignored;
  fs::remove_all(run.layout.root(), ignored);
}

// The device, the ranks, the run directory, threads and precision, the monitor. Returns the checkpoint to
// resume from, read before anything is written into the run.
std::optional<infer::CheckpointMeta> open_run(RunResources& run, PrecisionPlan& precision) {
  const auto& c = run.config;
  run.device = models::resolve_device(c.training.device);
  run.ranks = RankGroup::from_environment(c, run.device.is_cuda());
  if (run.device.is_cuda() && run.ranks->distributed()) run.device = torch::Device(torch::kCUDA, run.ranks->local_rank());
  std::optional<infer::CheckpointMeta> resume;
  if (run.options.resume) {
    resume = infer::read_checkpoint_meta(*run.options.resume);
    check_world_size(*run.ranks, *resume);
  }
  open_run_dir(run);
  torch::manual_seed(c.seed);
  apply_rank_threads(run);
  precision = plan_precision(c.training.precision, run.device);
  log_runtime(run, precision);
  if (const auto budget = apply_device_budget(run.device, c.memory.device_budget_mb); !budget.empty()) log::info(budget);
  start_monitor(run);
  return resume;
}

}  // namespace

TrainingSession::TrainingSession(Config config, SessionOptions options)
    : state_(std::make_unique<State>(std::move(config), std::move(options))) {}

TrainingSession::~TrainingSession() {
  if (state_ && state_->run.monitor) state_->run.monitor->stop();
}

const fs::path& TrainingSession::run_dir() const { return state_->run.layout.root(); }

void TrainingSession::add_callback(std::unique_ptr<Callback> callback) { state_->callbacks.add(std::move(callback)); }

void TrainingSession::setup() {
  auto& s = *state_;
  const auto& c = s.run.config;
  const auto resume = open_run(s.run, s.training.precision);
  try {
    check_memory_forecast(s.run);
    s.data = data::prepare_run_data(c, data_context(s.run));
    adopt_features(s.run, s.data.prepared.feature_names);
    write_run_config(s.run);
    s.input = input_fingerprint(c, s.data.prepared);
    build_model(s, s.training, resume);
  } catch (...) {
    discard_new_run_dir(s.run);
    throw;
  }
  GradScalerOptions scaler_options;
  scaler_options.enabled = s.training.precision.loss_scaling;
  s.training.scaler = std::make_unique<GradScaler>(scaler_options);
  s.callbacks = default_callbacks(c, *s.training.optimizer, {s.run.ranks->rank(), s.run.ranks->is_writer()});
  if (s.run.ranks->distributed()) s.callbacks.add(std::make_unique<DistributedCallback>(*s.run.ranks));
  s.context = std::make_unique<FitContext>(FitContext{c, s.run.layout, s.run.monitor.get(), *s.training.model,
                                                      s.run.device, s.training.counters,
                                                      [&s](const fs::path& dir) { s.save(dir); },
                                                      s.data.prepared.target_names});
  if (resume) s.load_components(*resume);
  make_meters(s.evaluation, c, s.data.prepared);
}

}  // namespace safetrain::train
