#pragma once
// The trainer's settings (`training.*`, `memory.*`, `output.*`, `logging.*`,
// `debug.*`) and their defaults, declared once: the config schema binds each
// key to a member here. The defaults are the seed's safe GTX 1650 profile.
// LibTorch-free, so the config library can hold them.
#include <cstdint>
#include <string>

#include "safetrain/common/enum_names.hpp"
#include "safetrain/models/run_kinds.hpp"

namespace safetrain::train {

enum class ClipAlgorithm { norm, value };
inline constexpr EnumName<ClipAlgorithm> kClipAlgorithmNames[] = {{"norm", ClipAlgorithm::norm},
                                                                  {"value", ClipAlgorithm::value}};
constexpr const auto& enum_names(ClipAlgorithm) { return kClipAlgorithmNames; }

enum class Scheduler { none, cosine, step, plateau };
inline constexpr EnumName<Scheduler> kSchedulerNames[] = {
    {"none", Scheduler::none}, {"cosine", Scheduler::cosine}, {"step", Scheduler::step}, {"plateau", Scheduler::plateau}};
constexpr const auto& enum_names(Scheduler) { return kSchedulerNames; }

// The metric that picks the best checkpoint and drives plateau and early stopping (lower is better).
enum class MonitorMetric { val_loss, val_mae, train_loss };
inline constexpr EnumName<MonitorMetric> kMonitorMetricNames[] = {
    {"val_loss", MonitorMetric::val_loss}, {"val_mae", MonitorMetric::val_mae}, {"train_loss", MonitorMetric::train_loss}};
constexpr const auto& enum_names(MonitorMetric) { return kMonitorMetricNames; }

enum class OnNan { skip, stop };
inline constexpr EnumName<OnNan> kOnNanNames[] = {{"skip", OnNan::skip}, {"stop", OnNan::stop}};
constexpr const auto& enum_names(OnNan) { return kOnNanNames; }

// Out of memory in a training step: save and stop, or halve the micro-batch (accumulation x2) and retry.
enum class OnOom { stop, shrink };
inline constexpr EnumName<OnOom> kOnOomNames[] = {{"stop", OnOom::stop}, {"shrink", OnOom::shrink}};
constexpr const auto& enum_names(OnOom) { return kOnOomNames; }

enum class ProgressSetting { automatic, bar, lines, off };
inline constexpr EnumName<ProgressSetting> kProgressSettingNames[] = {
    {"auto", ProgressSetting::automatic}, {"bar", ProgressSetting::bar}, {"lines", ProgressSetting::lines},
    {"off", ProgressSetting::off}};
constexpr const auto& enum_names(ProgressSetting) { return kProgressSettingNames; }

// Data parallelism (src/dist): one process, or one process per rank launched by torchrun, srun or a shell loop.
enum class Strategy { single, ddp };
inline constexpr EnumName<Strategy> kStrategyNames[] = {{"single", Strategy::single}, {"ddp", Strategy::ddp}};
constexpr const auto& enum_names(Strategy) { return kStrategyNames; }

enum class DdpBackend { automatic, gloo, nccl };
inline constexpr EnumName<DdpBackend> kDdpBackendNames[] = {
    {"auto", DdpBackend::automatic}, {"gloo", DdpBackend::gloo}, {"nccl", DdpBackend::nccl}};
constexpr const auto& enum_names(DdpBackend) { return kDdpBackendNames; }

// A count where 0 means "choose for me" (written `auto` in a config).
struct AutoCount {
  int64_t value = 0;
  bool is_auto() const { return value == 0; }
};

// Defaults for a tabular MLP (seconds per epoch on a small table, early stopping ends most runs); the seed's
// GTX-1650 transformer settings (batch 4 x 4, fp16, lr 3e-4, 50 epochs) live in configs/safe_training.yaml.
struct TrainingOptions {
  int64_t batch_size = 128;
  int64_t max_epochs = 100;
  int64_t check_val_every_n_epoch = 1;
  int64_t accumulate_grad_batches = 1;
  double gradient_clip_val = 0.5;  // 0 = no clipping
  ClipAlgorithm gradient_clip_algorithm = ClipAlgorithm::norm;
  models::Precision precision = models::Precision::fp32;
  models::OptimizerKind optimizer = models::OptimizerKind::adamw;
  double lr = 2e-3;
  double weight_decay = 0.01;
  double momentum = 0.9;
  Scheduler scheduler = Scheduler::cosine;
  int64_t warmup_epochs = 1;
  int64_t step_size = 10;
  double gamma = 0.5;
  int64_t plateau_patience = 3;
  double min_lr = 1e-6;
  bool early_stopping = true;
  int64_t patience = 10;
  // checkpoint.every_n_epochs: checkpoints/last every N epochs (and always after the final epoch and at a stop
  // on an epoch boundary); best is still written whenever the metric improves.
  int64_t checkpoint_every_n_epochs = 1;
  double min_delta = 0.0;
  MonitorMetric monitor = MonitorMetric::val_loss;
  OnNan on_nan = OnNan::stop;
  OnOom on_oom = OnOom::stop;
  AutoCount threads;  // intra-op threads; auto = all cores
  models::DeviceSetting device = models::DeviceSetting::automatic;
  int64_t limit_train_batches = 0;  // 0 = all
  Strategy strategy = Strategy::single;  // ddp is implied when WORLD_SIZE > 1 (SLURM_NTASKS needs ddp set)
  DdpBackend ddp_backend = DdpBackend::automatic;  // auto: nccl on CUDA, gloo on CPU
  int64_t ddp_timeout_s = 300;  // rendezvous and every collective; a dead rank ends the others within it
  double ddp_bucket_mb = 25;   // gradient all-reduce bucket size (DistributedDataParallel's default)
};

struct MemoryOptions {
  int64_t max_validation_outputs = 10000;
  int64_t max_test_outputs = 10000;
  int64_t empty_cache_every_n_batches = 50;
  double min_free_mb = 1200;
  double device_budget_mb = 0;  // 0 = no cap
};

struct OutputOptions {
  std::string dir = "runs";
  std::string run_name;  // empty = a timestamp
};

struct LoggingOptions {
  ProgressSetting progress = ProgressSetting::automatic;
  int64_t log_every_n_steps = 50;
  bool tensorboard = false;            // the epoch figures as TensorBoard event files under RUN_DIR/tensorboard
  bool tensorboard_step_loss = false;  // and each optimizer step's training loss (RUN_DIR/tensorboard/steps)
};

// Test hooks, accepted but not documented: they prove the detectors and the clean stops.
struct DebugOptions {
  double plant_leak_mb_per_epoch = 0;  // keep this much memory per validation
  int64_t sigint_at_batch = 0;         // raise SIGINT after this training batch of the run (1-based; 0 = never)
  bool sigint_at_test = false;         // raise SIGINT when the final test starts
  int64_t sigint_at_validation = 0;    // raise SIGINT as this epoch's validation starts (1-based; 0 = never)
  int64_t sigterm_at_batch = 0;        // raise SIGTERM after this training batch of the run (0 = never)
  int64_t signal_rank = -1;            // only this rank raises the signals above (-1 = every rank)
  int64_t inject_oom_at_step = 0;      // an out-of-memory error in optimizer step N of the run (1-based; 0 = never)
  bool inject_eval_oom = false;        // an out-of-memory error in the run's first validation forward
};

}  // namespace safetrain::train
