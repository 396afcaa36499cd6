// TrainingSession: the epoch loop, the final test and the run summary. Everything that is not training or
// evaluating (schedules, checkpoints, logs, the monitor, trimming) happens in callbacks.
#include <chrono>
#include <cmath>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/train/callbacks.hpp"
#include "safetrain/train/device.hpp"
#include "safetrain/train/progress.hpp"
#include "safetrain/models/state_dict.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "session_state.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {
namespace {

double monitored_value(MonitorMetric monitored, const EpochRecord& r) {
  if (monitored == MonitorMetric::train_loss) return r.metrics.value_or(metric::kTrainLoss, NAN);
  if (monitored == MonitorMetric::val_mae) return r.metrics.value_or(metric::kValMae, NAN);
  return r.metrics.value_or(metric::kValLoss, NAN);
}

std::optional<RunEnd> stop_requested(const CallbackList& callbacks) {
  if (StopSignals::requested()) return RunEnd::signal;
  return callbacks.should_stop();
}

void count_pass(Counters& counters, const TrainPass& pass) {
  counters.global_step += pass.steps;
  counters.nan_skipped += pass.nan_skipped;
  counters.micro_batch = pass.micro_batch;
}

void log_pass(MetricsRecord& metrics, const TrainPass& pass) {
  using Show = MetricsRecord::Show;
  metrics.log(metric::kTrainLoss, pass.mean_loss, Show::on_epoch_line);
  metrics.log(metric::kSeconds, pass.seconds);
  metrics.log(metric::kSamplesPerS, pass.seconds > 0 ? static_cast<double>(pass.samples) / pass.seconds : 0.0,
              Show::on_epoch_line);
  metrics.log(metric::kLoaderWaitFraction, pass.loader_wait_seconds / std::max(pass.seconds, 1e-9), Show::on_epoch_line);
}

TrainLoopOptions loop_options(const config::Config& c) {
  const auto& t = c.training;
  TrainLoopOptions o{{t.accumulate_grad_batches, t.gradient_clip_val, t.gradient_clip_algorithm}, t.limit_train_batches,
                     t.on_nan};
  o.on_oom = t.on_oom;
  o.inject_oom_at_step = c.debug.inject_oom_at_step;
  return o;
}

}  // namespace

int RunOutcome::exit_code() const {
  switch (end) {
    case RunEnd::completed:
    case RunEnd::early_stopped: return kExitOk;
    case RunEnd::signal: return 128 + StopSignals::signal_number();
    case RunEnd::memory_alarm:
    case RunEnd::out_of_memory: return kExitResourceError;
    case RunEnd::nan_loss: return kExitRuntimeError;
  }
  return kExitRuntimeError;
}

EpochResult TrainingSession::run_epoch(int64_t epoch, bool validate) {
  auto& s = *state_;
  auto& ctx = *s.context;
  if (!std::exchange(s.fit_started, true)) s.callbacks.call(&Callback::on_fit_start, ctx);
  EpochResult result;
  auto& record = result.record;
  auto options = loop_options(s.run.config);
  auto& counters = s.training.counters;
  options.micro_batch = counters.micro_batch;  // a shrink survives the epoch and, through checkpoints, a resume
  options.steps_before = counters.global_step;
  record.epoch = epoch + 1;
  record.batches = planned_batches(*s.data.train_loader, options);
  s.callbacks.call(&Callback::on_train_epoch_start, ctx, record);
  auto pass = train_one_epoch(
      s.step_parts(), *s.data.train_loader, epoch, options,
      [&](const BatchEnd& batch) { s.callbacks.call(&Callback::on_train_batch_end, ctx, batch); },
      [&] { return stop_requested(s.callbacks); });
  s.run.ranks->combine(pass);  // the loss and samples of every rank's shard
  count_pass(counters, pass);
  log_pass(record.metrics, pass);
  s.callbacks.call(&Callback::on_train_end, ctx, record);
  if ((result.stop = pass.stop)) return result;  // an unfinished epoch: no row, no checkpoint
  if (validate) {
    if (const auto cut = validate_epoch(record)) {  // cut short: like a stop mid-epoch, the epoch is not recorded
      result.stop = cut;
      return result;
    }
  }
  counters.epochs_completed = epoch + 1;
  record.monitored = monitored_value(s.run.config.training.monitor, record);
  s.callbacks.end_epoch(ctx, record);
  auto& evaluation = s.evaluation;
  result.val_buffer_bytes = evaluation.val.buffer->bytes();
  result.val_buffer_size = evaluation.val.buffer->size();
  evaluation.largest_val_buffer_bytes = std::max(evaluation.largest_val_buffer_bytes, result.val_buffer_bytes);
  evaluation.largest_val_buffer_rows = std::max(evaluation.largest_val_buffer_rows, result.val_buffer_size);
  result.stop = s.run.ranks->agree_on_stop(stop_requested(s.callbacks));  // every rank ends at the same epoch
  // Stopping on this epoch boundary: checkpoints/last catches up (checkpoint.every_n_epochs may have skipped it).
  if (result.stop) {
    if (auto* checkpoints = s.callbacks.checkpoint()) checkpoints->catch_up(ctx);
  }
  return result;
}

// A signal or an alarm stops validation between batches (a preempted job has seconds): the epoch is then
// dropped like one stopped mid-training, and the partial pass is never shown as that epoch's validation.
std::optional<RunEnd> TrainingSession::validate_epoch(EpochRecord& record) {
  auto& s = *state_;
  auto& val = s.evaluation.val;
  const auto start = std::chrono::steady_clock::now();
  s.callbacks.call(&Callback::on_validation_start, *s.context);
  // One process stops validation between batches; ranks validate to the end (a local break would
  // leave the others waiting in the metrics all-reduce) and agree on the stop at the next step.
  std::function<bool()> stop;
  if (!s.run.ranks->distributed()) {
    stop = [&] {
      const auto reason = stop_requested(s.callbacks);
      return reason && *reason != RunEnd::early_stopped;
    };
  }
  EvalPass eval;
  std::optional<RunEnd> cut;
  try {
    eval = evaluate(s.eval_parts(val, *s.data.val_loader), record.epoch, stop);
    if (eval.interrupted) cut = stop_requested(s.callbacks);
  } catch (const c10::Error& e) {
    // One process stops cleanly; in a data-parallel run the error stays fatal (the peers would wait).
    if (!is_out_of_memory(e) || s.run.ranks->distributed()) throw;
    log::error("out of memory in validation (", val.pieces.rows > 0 ? val.pieces.rows : s.run.config.training.batch_size,
               " rows at once): set training.on_oom: shrink to evaluate in smaller pieces, or lower training.batch_size");
    cut = RunEnd::out_of_memory;
  }
  if (cut) {
    val.epoch = -1;  // the buffer holds part of a pass: no validation plots from it
    log::warn("validation of epoch ", record.epoch, " stopped after ", eval.samples,
              " rows: the epoch is not recorded; checkpoints/last stays at epoch ",
              s.training.counters.epochs_completed);
    s.callbacks.call(&Callback::on_validation_end, *s.context, record);
    return cut;
  }
  s.run.ranks->combine(eval, *val.metrics);  // exact metrics over every rank's rows
  val.epoch = record.epoch;
  record.validated = true;
  // One definition of each figure (run_layout.hpp): the same numbers reach metrics.csv, metrics.json and the log.
  record.metrics.log(metric::kValLoss, val.metrics->loss(), MetricsRecord::Show::on_epoch_line);
  record.metrics.log(metric::kValMae, val.metrics->mean_mae());
  record.metrics.log(metric::kValR2, val.metrics->mean_r2(), MetricsRecord::Show::on_epoch_line);
  record.metrics.log_per_target(metric::kValMae, val.metrics->target_names(), val.metrics->mae());
  record.metrics.log_per_target(metric::kValR2, val.metrics->target_names(), val.metrics->r2());
  s.callbacks.call(&Callback::on_validation_end, *s.context, record);
  record.metrics.log(metric::kSeconds, record.metrics.value_or(metric::kSeconds, 0.0) +
                                           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return std::nullopt;
}

}  // namespace safetrain::train

namespace safetrain::train {
namespace {

// "loss L (MSE, standardised targets), mean r2 R; t1 mae .. r2 ..; t2 ...": the averaged figures in the loss's
// units (run_layout.hpp), then each target in its own units, since an average across units says little.
std::string figures_line(const eval::StreamingMetrics& m, const config::Config& c) {
  std::ostringstream line;
  line << "loss " << m.loss() << " (" << loss_units(c.data.split.standardize_targets) << "), mean mae " << m.mean_mae()
       << " (same units), mean r2 " << m.mean_r2();
  const auto mae = m.mae(), r2 = m.r2();
  for (size_t t = 0; t < mae.size(); ++t) {
    line << "; " << m.target_names()[t] << " mae " << mae[t] << " r2 " << r2[t];
  }
  line << " (each in its own units)";
  return line.str();
}

std::string summary_line(const TrainingSession::State& s, RunEnd end, double seconds) {
  const auto* best = s.callbacks.checkpoint();
  std::ostringstream summary;
  summary << "safetrain: " << run_end_name(end) << " after " << s.training.counters.epochs_completed << " epochs in "
          << format_duration(seconds) << "; best " << name_of(s.run.config.training.monitor) << " "
          << (best ? best->best_metric() : NAN) << " (epoch " << (best ? best->best_epoch() : -1) << ")";
  if (s.evaluation.test.epoch >= 0) summary << "; test " << figures_line(*s.evaluation.test.metrics, s.run.config);
  summary << "; run " << s.run.layout.root().string();
  return summary.str();
}

void warn_if_still_improving(const CheckpointCallback* best, const Counters& counters, RunEnd end) {
  if (end != RunEnd::completed || !best || counters.epochs_completed < 2) return;
  if (best->best_epoch() == counters.epochs_completed) {
    log::warn("the best epoch was the last one (", best->best_epoch(),
              "): the model was still improving; raise training.max_epochs");
  }
}

}  // namespace

// The final figures use the best weights, as Lightning's trainer.test(ckpt_path="best"). The kept epoch comes from
// the checkpoint callback's state, which every rank shares, so ranks agree on what they evaluate.
int64_t TrainingSession::load_kept_weights() {
  auto& s = *state_;
  if (fs::exists(s.run.layout.best_checkpoint() / "model.pt")) {
    models::load_state_dict(*s.training.model, s.run.layout.best_checkpoint() / "model.pt", true);
    // The file's tensors were read into memory before they replaced the model's: give them back, so the test
    // holds one copy of the weights whatever glibc's thresholds made of that buffer.
    monitor::release_cached_memory();
  }
  // Rank 0's best weights, also where the other ranks cannot read them.
  s.run.ranks->broadcast_module(*s.training.model);
  const auto* best = s.callbacks.checkpoint();
  return best && best->best_epoch() > 0 ? best->best_epoch() : s.training.counters.epochs_completed;
}

// Validation plots, predictions/val.csv and metrics.json's "val" must show the model the run keeps: when the
// last complete validation is not the best epoch's (another epoch's, or none: a stop cut it short), validation
// runs again with the best weights (the same rows in the same order, so its figures equal that epoch's row of
// metrics.csv). Returns the kept epoch.
int64_t TrainingSession::validate_kept_model() {
  auto& s = *state_;
  auto& val = s.evaluation.val;
  const int64_t kept = load_kept_weights();
  const bool kept_is_saved = fs::exists(s.run.layout.best_checkpoint() / "model.pt");
  if (kept > 0 && kept_is_saved && val.epoch != kept) {
    log::info("validation: again with the kept weights of epoch ", kept, " (the last complete validation was ",
              val.epoch >= 0 ? "epoch " + std::to_string(val.epoch) : std::string("cut short"),
              "), for the final validation predictions and plots");
    auto pass = evaluate(s.eval_parts(val, *s.data.val_loader), kept);
    s.run.ranks->combine(pass, *val.metrics);
    val.epoch = kept;
  }
  return kept;
}

void TrainingSession::run_test(int64_t kept_epoch) {
  auto& s = *state_;
  s.callbacks.call(&Callback::on_test_start, *s.context);
  s.evaluation.test.epoch = kept_epoch;
  auto test = evaluate(s.eval_parts(s.evaluation.test, *s.data.test_loader), s.evaluation.test.epoch);
  s.run.ranks->combine(test, *s.evaluation.test.metrics);
  log::info("test: ", test.samples, " rows; ", figures_line(*s.evaluation.test.metrics, s.run.config));
  s.callbacks.call(&Callback::on_test_end, *s.context);
}

RunOutcome TrainingSession::run() {
  auto& s = *state_;
  const auto start = std::chrono::steady_clock::now();
  RunOutcome outcome;
  const int64_t max_epochs = s.run.config.training.max_epochs;
  for (int64_t epoch = s.training.counters.epochs_completed; epoch < max_epochs; ++epoch) {
    const bool validate =
        (epoch + 1) % s.run.config.training.check_val_every_n_epoch == 0 || epoch + 1 == max_epochs;
    const auto result = run_epoch(epoch, validate);
    if (result.stop) {
      outcome.end = *result.stop;
      break;
    }
  }
  const bool interrupted = outcome.end != RunEnd::completed && outcome.end != RunEnd::early_stopped;
  warn_if_still_improving(s.callbacks.checkpoint(), s.training.counters, outcome.end);
  release_training_state(s.run.monitor.get(), s.training, s.data);
  if (interrupted) {
    log::warn(run_end_name(outcome.end), ": writing what exists");
    s.callbacks.call(&Callback::on_stop, *s.context, outcome.end);
    // After Ctrl-C too the plots show the kept model (one bounded pass); not after a memory alarm or an OOM,
    // where another pass could meet the same wall.
    if (outcome.end == RunEnd::signal) validate_kept_model();
  } else {
    const int64_t kept = validate_kept_model();
    if (s.data.test_loader) run_test(kept);
  }
  if (s.run.options.write_final_stage) write_final_stage(s, outcome.end);
  // A signal or an alarm during the final test or plots still decides the exit code: never "completed".
  if (!interrupted) {
    if (const auto late = stop_requested(s.callbacks); late && *late != RunEnd::early_stopped) outcome.end = *late;
  }
  s.callbacks.call(&Callback::on_fit_end, *s.context, outcome.end);
  outcome.run_dir = s.run.layout.root();
  outcome.is_writer = s.run.ranks->is_writer();
  outcome.epochs_completed = s.training.counters.epochs_completed;
  if (const auto* best = s.callbacks.checkpoint()) outcome.best_metric = best->best_metric();
  outcome.summary = summary_line(s, outcome.end,
                                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return outcome;
}

}  // namespace safetrain::train
