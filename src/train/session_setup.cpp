// TrainingSession: construction and setup (data, model, optimizer, monitor, resume).
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/device.hpp"
#include "safetrain/models/memory_estimate.hpp"
#include "safetrain/models/state_dict.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/train/config_loader.hpp"
#include "safetrain/train/data_stage.hpp"
#include "safetrain/train/device.hpp"
#include "session_state.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {
namespace {

monitor::MonitorOptions monitor_options(const Config& c, const fs::path& run_dir) {
  monitor::MonitorOptions o;
  o.interval_ms = c.monitor.interval_ms;
  o.ring_capacity = c.monitor.ring_capacity;
  o.csv_path = run_dir / "memory.csv";
  o.warmup_epochs = c.monitor.warmup_epochs;
  o.window_epochs = c.monitor.window_epochs;
  o.leak_mb_per_epoch = c.monitor.leak_mb_per_epoch;
  o.warn_rss_mb = c.monitor.warn_rss_mb;
  o.critical_rss_mb = c.monitor.critical_rss_mb;
  o.warn_device_mb = c.monitor.warn_device_mb;
  o.critical_device_mb = c.monitor.critical_device_mb;
  o.min_available_mb = c.monitor.min_available_mb;
  return o;
}

data::LoaderOptions loader_options(const Config& c, bool shuffle, const torch::Device& device) {
  data::LoaderOptions o;
  o.batch_size = c.training.batch_size;
  o.shuffle = shuffle;
  o.drop_last = shuffle && c.data.drop_last;
  o.num_workers = c.data.num_workers;
  o.max_workers = c.data.max_workers;
  o.prefetch_batches = c.data.prefetch_batches;
  o.seed = c.seed;
  o.pin_memory = device.is_cuda();
  return o;
}

// Earlier epochs' losses for the final loss curve when resuming.
std::vector<eval::EpochRow> read_curve(const fs::path& metrics_csv) {
  std::vector<eval::EpochRow> rows;
  std::ifstream in(metrics_csv);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string epoch, train, val;
    std::getline(fields, epoch, ',');
    std::getline(fields, train, ',');
    std::getline(fields, val, ',');
    if (epoch.empty()) continue;
    rows.push_back({std::stoll(epoch), std::stod(train), val.empty() ? std::nan("") : std::stod(val)});
  }
  return rows;
}

}  // namespace

ScalingTensors TrainingSession::State::scaling() const {
  return {data.feature_scaler.mean, data.feature_scaler.std, data.target_scaler.mean, data.target_scaler.std};
}

void TrainingSession::State::save(const fs::path& dir) {
  monitor::PhaseScope phase(monitor.get(), monitor::Phase::checkpoint);
  progress_state.scaler = scaler->state();
  progress_state.schedule = schedule->state();
  progress_state.early_stopping = early_stopping->state();
  CheckpointWrite contents;
  contents.model = model.get();
  contents.optimizer = optimizer.get();
  contents.scaling = scaling();
  contents.state = progress_state;
  contents.config_yaml = to_yaml(config.tree);
  save_checkpoint(dir, contents);
}

TrainingSession::TrainingSession(Config config, SessionOptions options)
    : state_(std::make_unique<State>(std::move(config), std::move(options))) {}

TrainingSession::~TrainingSession() {
  if (state_ && state_->monitor) state_->monitor->stop();
}

const fs::path& TrainingSession::run_dir() const { return state_->run_dir; }

void TrainingSession::setup() {
  auto& s = *state_;
  const auto& c = s.config;
  s.run_dir = s.options.run_dir.empty() ? create_run_dir(c.output.dir, c.output.run_name) : s.options.run_dir;
  for (const char* sub : {"checkpoints", "plots", "predictions"}) fs::create_directories(s.run_dir / sub);
  write_file_atomically(s.run_dir / "config.yaml", to_yaml(c.tree));

  torch::manual_seed(c.seed);
  apply_threads(c.training.threads);
  s.device = models::resolve_device(c.training.device);
  s.precision = plan_precision(c.training.precision, s.device);
  log::info("run directory: ", s.run_dir.string());
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  log::info("device: ", s.device.str(), ", ", torch::get_num_threads(), " intra-op threads (OMP_WAIT_POLICY=",
            wait_policy ? wait_policy : "unset", "); ", s.precision.explanation);
  if (const auto budget = apply_device_budget(s.device, c.memory.device_budget_mb); !budget.empty()) log::info(budget);

  if (c.monitor.enabled) {
    s.monitor = std::make_unique<monitor::MemoryMonitor>(monitor_options(c, s.run_dir));
    s.monitor->start();
  }
  {
    monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::load);
    const auto table = load_table(c);
    log::info("data: ", table.values.size(0), " rows x ", table.columns.size(), " columns from ", table.source);
    const auto selection = select_features(c, table, fs::path(c.output.dir) / ".cache" / "descriptors");
    log::info(selection.summary);
    s.data = prepare_data(c, table, selection);
  }
  log::info("split: ", s.data.train.size(), " train / ", s.data.val.size(), " val / ", s.data.test.size(),
            " test rows; ", s.data.feature_names.size(), " features -> ", s.data.target_names.size(), " targets");
  if (s.data.train.size() == 0 || s.data.val.size() == 0) {
    throw InputError("data: the split left no training or validation rows; add rows or adjust data.*_fraction");
  }
  s.train_loader = std::make_unique<data::Loader>(s.data.train, loader_options(c, true, s.device));
  s.val_loader = std::make_unique<data::Loader>(s.data.val, loader_options(c, false, s.device));
  if (s.data.test.size() > 0) {
    s.test_loader = std::make_unique<data::Loader>(s.data.test, loader_options(c, false, s.device));
  }

  std::optional<CheckpointMeta> resume;
  if (s.options.resume) resume = read_checkpoint_meta(*s.options.resume);
  {
    monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::build);
    const auto spec = infer::model_spec_from(c, s.data.feature_names.size(), s.data.target_names);
    s.model = infer::build_checked_model(spec, c, s.device);
    if (resume) {
      if (resume->state.feature_names != s.data.feature_names || resume->state.target_names != s.data.target_names) {
        throw InputError(resume->dir.string() + ": the checkpoint was trained on other columns than this data gives");
      }
      models::load_state_dict(*s.model, resume->dir / "model.pt", /*strict=*/true);
    }
  }
  s.optimizer = make_optimizer(c.training, s.model->parameters());
  s.scaler = std::make_unique<GradScaler>(GradScalerOptions{65536.0, 2.0, 0.5, 2000, s.precision.loss_scaling});
  s.schedule = std::make_unique<LearningRateSchedule>(c.training);
  s.early_stopping = std::make_unique<EarlyStopping>(c.training.early_stopping, c.training.patience, c.training.min_delta);
  s.progress_state.feature_names = s.data.feature_names;
  s.progress_state.target_names = s.data.target_names;
  s.progress_state.model_type = c.model.type;
  if (resume) {
    load_optimizer_state(resume->dir, *s.optimizer);
    restore_rng_state(resume->dir);
    s.progress_state = resume->state;
    s.scaler->load_state(resume->state.scaler);
    s.schedule->load_state(resume->state.schedule);
    s.early_stopping->load_state(resume->state.early_stopping);
    s.curve = read_curve(s.run_dir / "metrics.csv");
    s.curve.resize(std::min<size_t>(s.curve.size(), static_cast<size_t>(resume->state.epochs_completed)));
    log::info("resuming after epoch ", resume->state.epochs_completed, " from ", resume->dir.string());
  }
  s.metrics_log = std::make_unique<MetricsLog>(s.run_dir / "metrics.csv",
                                               resume ? resume->state.epochs_completed : -1);
  const int64_t targets = static_cast<int64_t>(s.data.target_names.size());
  s.val_buffer = std::make_unique<eval::OutputBuffer>(c.memory.max_validation_outputs, targets, c.seed);
  s.test_buffer = std::make_unique<eval::OutputBuffer>(c.memory.max_test_outputs, targets, c.seed + 1);
  s.val_metrics = std::make_unique<eval::StreamingMetrics>(s.data.target_names);
  s.test_metrics = std::make_unique<eval::StreamingMetrics>(s.data.target_names);
  s.progress = std::make_unique<Progress>(progress_style_from(c.logging.progress), c.training.max_epochs,
                                          c.logging.log_every_n_steps);
}

}  // namespace safetrain::train
