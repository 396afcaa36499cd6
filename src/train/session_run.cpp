// TrainingSession: the epoch loop, the final test and the run summary.
#include <chrono>
#include <cmath>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/models/state_dict.hpp"
#include "safetrain/train/stop_signals.hpp"
#include "session_state.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {
namespace {

double rss_mb() { return static_cast<double>(monitor::current_rss_bytes()) / 1048576.0; }

double monitored_value(const TrainingSession::State& s, double train_loss, const std::optional<double>& val_loss) {
  const auto& name = s.config.training.monitor;
  if (name == "train_loss") return train_loss;
  if (!val_loss) return std::nan("");
  if (name == "val_mae") return s.val_metrics->mean_mae();
  return *val_loss;
}

// The test hook behind debug.plant_leak_mb_per_epoch: memory kept on purpose during validation.
void plant_leak(TrainingSession::State& s) {
  const double mb = s.config.debug.plant_leak_mb_per_epoch;
  if (mb <= 0) return;
  const auto floats = static_cast<int64_t>(mb * 1048576.0 / sizeof(float));
  // Written, so the pages are resident; on the training device, so a device leak can be planted too.
  s.planted_leak.push_back(torch::ones({floats}, torch::TensorOptions().device(s.device)));
}

bool all_finite(const torch::nn::Module& model) {
  for (const auto& p : model.parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

}  // namespace

const char* run_end_name(RunEnd end) {
  switch (end) {
    case RunEnd::completed: return "completed";
    case RunEnd::early_stopped: return "early stopping";
    case RunEnd::signal: return "stopped by signal";
    case RunEnd::nan_loss: return "stopped: non-finite loss";
    case RunEnd::out_of_memory: return "stopped: out of memory";
    case RunEnd::memory_alarm: return "stopped: memory alarm";
  }
  return "?";
}

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
  EpochResult result;
  const double lr = s.schedule->lr_for_epoch(epoch);
  set_learning_rate(*s.optimizer, lr);

  TrainPass pass;
  {
    monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::train);
    pass = train_one_epoch(s, epoch);
  }
  s.progress->end_epoch(pass.seconds);
  result.train_loss = pass.mean_loss;
  result.seconds = pass.seconds;
  result.samples_per_s = pass.seconds > 0 ? static_cast<double>(pass.samples) / pass.seconds : 0.0;
  if (pass.stop) {
    result.stop = pass.stop;
    return result;  // the epoch is incomplete: no metrics row, the caller saves what is good
  }

  double seconds = pass.seconds;
  if (validate) {
    const auto start = std::chrono::steady_clock::now();
    monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::validate);
    const auto eval = evaluate(s, *s.val_loader, *s.val_metrics, *s.val_buffer, epoch);
    result.val_loss = eval.loss;
    s.last_validated_epoch = epoch;
    plant_leak(s);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  result.val_buffer_bytes = s.val_buffer->bytes();
  result.val_buffer_size = s.val_buffer->size();
  s.largest_val_buffer_bytes = std::max(s.largest_val_buffer_bytes, result.val_buffer_bytes);
  s.largest_val_buffer_rows = std::max(s.largest_val_buffer_rows, result.val_buffer_size);

  s.progress_state.epochs_completed = epoch + 1;
  const double monitored = monitored_value(s, result.train_loss, result.val_loss);
  bool is_best = false;
  if (!std::isnan(monitored)) {
    s.schedule->observe_metric(monitored);
    s.early_stopping->observe(monitored);
    if (monitored < s.progress_state.best_metric) {
      s.progress_state.best_metric = monitored;
      s.progress_state.best_epoch = epoch + 1;
      is_best = true;
    }
  }
  EpochMetrics row;
  row.epoch = epoch + 1;
  row.train_loss = result.train_loss;
  row.val_loss = result.val_loss;
  if (validate) {
    row.val_mae = s.val_metrics->mean_mae();
    row.val_r2 = s.val_metrics->mean_r2();
  }
  row.lr = lr;
  row.seconds = seconds;
  row.samples_per_s = result.samples_per_s;
  row.rss_mb = rss_mb();
  s.metrics_log->append(row);
  s.curve.push_back({row.epoch, row.train_loss, result.val_loss.value_or(std::nan(""))});

  s.save(s.run_dir / "checkpoints" / "last");
  if (is_best) s.save(s.run_dir / "checkpoints" / "best");
  trim_memory(s);
  if (s.monitor) s.monitor->end_epoch(epoch + 1);

  std::ostringstream line;
  line << "epoch " << epoch + 1 << "/" << s.config.training.max_epochs << "  train_loss " << result.train_loss;
  if (result.val_loss) line << "  val_loss " << *result.val_loss << "  val_r2 " << s.val_metrics->mean_r2();
  line << "  lr " << lr << "  " << static_cast<int64_t>(result.samples_per_s) << " samples/s  loader wait "
       << static_cast<int64_t>(100.0 * pass.loader_wait_seconds / std::max(pass.seconds, 1e-9)) << "%  RSS "
       << static_cast<int64_t>(row.rss_mb) << " MB";
  if (const auto eta = s.progress->eta_text(); !eta.empty() && epoch + 1 < s.config.training.max_epochs) {
    line << "  ETA " << eta;
  }
  log::info(line.str());
  if (s.monitor && s.monitor->stop_requested()) result.stop = RunEnd::memory_alarm;
  else if (s.early_stopping->should_stop()) result.stop = RunEnd::early_stopped;
  return result;
}

RunOutcome TrainingSession::run() {
  auto& s = *state_;
  const auto start = std::chrono::steady_clock::now();
  RunOutcome outcome;
  const int64_t first_epoch = s.progress_state.epochs_completed;
  const int64_t max_epochs = s.config.training.max_epochs;
  for (int64_t epoch = first_epoch; epoch < max_epochs; ++epoch) {
    const bool validate = (epoch + 1) % s.config.training.check_val_every_n_epoch == 0 || epoch + 1 == max_epochs;
    const auto result = run_epoch(epoch, validate);
    if (result.stop) {
      outcome.end = *result.stop;
      break;
    }
  }
  const bool interrupted = outcome.end != RunEnd::completed && outcome.end != RunEnd::early_stopped;
  if (interrupted) {
    log::warn(run_end_name(outcome.end), ": saving checkpoints/last and writing what exists");
    // After a non-finite loss the weights are only saved if they are still finite (the bad step was not taken,
    // but a diverging run can reach inf weights first); otherwise the previous epoch's checkpoint stays.
    if (outcome.end != RunEnd::nan_loss || all_finite(*s.model)) s.save(s.run_dir / "checkpoints" / "last");
  }
  // The final test uses the best weights, as Lightning's trainer.test(ckpt_path="best").
  if (!interrupted && s.test_loader) {
    monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::test);
    const fs::path best = s.run_dir / "checkpoints" / "best";
    if (fs::exists(best / "model.pt")) models::load_state_dict(*s.model, best / "model.pt", true);
    const auto test = evaluate(s, *s.test_loader, *s.test_metrics, *s.test_buffer, max_epochs);
    s.tested = true;
    log::info("test: loss ", test.loss, "  mae ", s.test_metrics->mean_mae(), "  r2 ", s.test_metrics->mean_r2(),
              " over ", test.samples, " rows");
  }
  if (s.options.write_final_stage) write_final_stage(s);

  outcome.run_dir = s.run_dir;
  outcome.epochs_completed = s.progress_state.epochs_completed;
  outcome.best_metric = s.progress_state.best_metric;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ostringstream summary;
  summary << "safetrain: " << run_end_name(outcome.end) << " after " << outcome.epochs_completed << " epochs in "
          << format_duration(seconds) << "; best " << s.config.training.monitor << " " << outcome.best_metric
          << " (epoch " << s.progress_state.best_epoch << ")";
  if (s.tested) summary << "; test mse " << s.test_metrics->loss() << " r2 " << s.test_metrics->mean_r2();
  summary << "; run " << s.run_dir.string();
  outcome.summary = summary.str();
  return outcome;
}

}  // namespace safetrain::train
