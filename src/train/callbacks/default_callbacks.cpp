// The trainer's callbacks, in call order (see callbacks.hpp).
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

CallbackList default_callbacks(const config::Config& config, torch::optim::Optimizer& optimizer, const RankRole& role) {
  CallbackList list;
  list.add(std::make_unique<LearningRateCallback>(config.training, optimizer));
  list.add(std::make_unique<GradNormCallback>());
  if (config.debug.plant_leak_mb_per_epoch > 0) {
    list.add(std::make_unique<LeakPlanterCallback>(config.debug.plant_leak_mb_per_epoch));
  }
  const auto& debug = config.debug;
  const bool signals_here = debug.signal_rank < 0 || debug.signal_rank == role.rank;
  const bool any_signal = debug.sigint_at_batch > 0 || debug.sigint_at_test || debug.sigterm_at_batch > 0 ||
                          debug.sigint_at_validation > 0;
  if (signals_here && any_signal) {
    list.add(std::make_unique<SignalInjectorCallback>(config.debug));
  }
  list.add(std::make_unique<EarlyStoppingCallback>(config.training));
  list.add_checkpoint(std::make_unique<CheckpointCallback>(
      config.training.min_delta, config.training.checkpoint_every_n_epochs, config.training.max_epochs));
  list.add(std::make_unique<MemoryFiguresCallback>());
  list.add(std::make_unique<MemoryTrimCallback>(config.memory.empty_cache_every_n_batches));
  // After the trim, so the epoch-end sample the leak detector judges is the settled figure.
  list.add(std::make_unique<MemoryMonitorCallback>());
  // The sinks (they run in the sink phase, after every on_train_epoch_end; among themselves in this order).
  if (role.writer) {
    list.add(std::make_unique<MetricsCsvCallback>());
    if (config.logging.tensorboard) list.add(std::make_unique<TensorBoardCallback>(config.logging));
    list.add(std::make_unique<ProgressCallback>(config));
  }
  return list;
}

}  // namespace safetrain::train
