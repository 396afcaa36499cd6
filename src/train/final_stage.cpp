// The end-of-training stage, run once (also after a clean stop): predictions,
// metrics.json, final scatter plots and curves, the memory report.
#include <nlohmann/json.hpp>

#include "safetrain/common/log.hpp"
#include "safetrain/eval/predictions.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/monitor/trim.hpp"
#include "session_state.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {
namespace {

void write_split(TrainingSession::State& s, const std::string& name, const eval::OutputBuffer& buffer,
                 const eval::StreamingMetrics& metrics, int64_t epoch) {
  if (buffer.size() == 0) return;
  const auto outputs = buffer.snapshot();
  eval::write_predictions_csv(outputs, s.data.target_names, s.run_dir / "predictions" / (name + ".csv"));
  eval::write_scatter_plots(outputs, s.data.target_names, metrics, s.run_dir / "plots", {name, epoch});
}

}  // namespace

void write_final_stage(TrainingSession::State& s) {
  {
    monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::plot);
    try {
      nlohmann::json metrics;
      if (s.last_validated_epoch >= 0) {
        write_split(s, "val", *s.val_buffer, *s.val_metrics, s.last_validated_epoch + 1);
        metrics["val"] = s.val_metrics->to_json();
        metrics["val"]["epoch"] = s.last_validated_epoch + 1;
      }
      if (s.tested) {
        write_split(s, "test", *s.test_buffer, *s.test_metrics, s.progress_state.best_epoch);
        metrics["test"] = s.test_metrics->to_json();
      }
      metrics["best_epoch"] = s.progress_state.best_epoch;
      metrics["monitor"] = s.config.training.monitor;
      metrics["epochs_completed"] = s.progress_state.epochs_completed;
      metrics["nan_batches_skipped"] = s.progress_state.nan_skipped;
      metrics["loss_scaler_skipped_steps"] = s.scaler->skipped_steps();
      metrics["val_buffer"] = {{"capacity", s.config.memory.max_validation_outputs},
                               {"largest_rows", s.largest_val_buffer_rows},
                               {"largest_bytes", s.largest_val_buffer_bytes}};
      eval::write_metrics_json(metrics, s.run_dir / "metrics.json");
      if (!s.curve.empty()) eval::write_loss_curve(s.curve, s.run_dir / "plots" / "loss.png");
    } catch (const std::exception& e) {
      // A plotting failure must not cost the run: checkpoints and CSVs are already on disk.
      log::error("final plots: ", e.what());
    }
  }
  s.val_buffer->clear();
  s.test_buffer->clear();
  s.planted_leak.clear();
  monitor::release_cached_memory();
  if (!s.monitor) return;
  s.monitor->stop();
  s.monitor->write_report(s.run_dir / "memory_report.json");
  try {
    eval::write_memory_curve(s.run_dir / "memory.csv", s.run_dir / "plots" / "memory.png");
  } catch (const std::exception& e) {
    log::error("memory plot: ", e.what());
  }
  log::info(s.monitor->verdict_line(), "; cache trims: ", monitor::trim_count());
}

}  // namespace safetrain::train
