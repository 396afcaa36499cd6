// The end-of-training stage, run once (also after a clean stop): predictions, metrics.json, every plot through
// the same path as plot_run, then the memory report and its plot once the monitor has stopped.
#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/eval/final_stage.hpp"
#include "safetrain/eval/importance.hpp"
#include "safetrain/eval/plots.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/memory_estimate.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/train/callbacks.hpp"
#include "safetrain/train/rank_reports.hpp"
#include "session_state.hpp"

namespace safetrain::train {
namespace {

// The training loss's name (run_layout.hpp) for metrics.json, loss.png and importance.png.
std::string loss_units(const TrainingSession::State& s) {
  return safetrain::loss_units(s.config.data.split.standardize_targets);
}

nlohmann::json run_summary(const TrainingSession::State& s, RunEnd end) {
  const auto* best = s.callbacks.checkpoint();
  return {{"end", run_end_name(end)},
          {"best_epoch", best ? best->best_epoch() : -1},
          {"loss_units", loss_units(s)},
          {"averages", kAveragedFigures},
          {"monitor", name_of(s.config.training.monitor)},
          {"epochs_completed", s.counters.epochs_completed},
          {"nan_batches_skipped", s.counters.nan_skipped},
          {"loss_scaler_skipped_steps", s.scaler->skipped_steps()},
          {"val_buffer",
           {{"capacity", s.config.memory.max_validation_outputs},
            {"largest_rows", s.largest_val_buffer_rows},
            {"largest_bytes", s.largest_val_buffer_bytes}}}};
}

// Permutation importance of the final model (best weights after the test) on the validation split. Returns the
// plots written.
int write_importance(TrainingSession::State& s) {
  auto options = s.config.importance;
  if (!options.enabled || s.data.val.size() == 0 || s.data.feature_names.empty()) return 0;
  monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::importance);
  torch::NoGradGuard no_grad;
  s.model->eval();
  options.seed = s.config.seed;
  // Bounded by a training step's activations, so the final stage never peaks above training.
  const auto spec = infer::model_spec_from(s.config, static_cast<int64_t>(s.data.feature_names.size()),
                                           s.data.target_names);
  const int64_t bound = models::inference_rows_within_training(spec, s.config.training.batch_size,
                                                              s.config.training.precision);
  if (options.batch_rows > bound) {
    log::info("importance: batches of at most ", bound, " rows (importance.batch_rows ", options.batch_rows,
              " would hold more activations than a training step)");
    options.batch_rows = bound;
  }
  const auto forward = s.forward();
  const auto result = eval::permutation_importance([&](const torch::Tensor& x) { return forward(x.to(s.device)); },
                                                   s.data.val.x, s.data.val.y, s.data.feature_names, options);
  log::info("importance: ", result.features.size(), " features, ", result.rows, " validation rows x ", result.repeats,
            " shuffles, batches of <= ", result.largest_batch_rows, " rows");
  eval::write_importance_csv(result, s.layout.importance_csv());
  eval::write_importance_plot(result, s.layout.plot("importance"), 20, loss_units(s));
  return 1;
}

int count_plots(const std::vector<std::filesystem::path>& files) {
  int plots = 0;
  for (const auto& f : files) plots += f.extension() == ".png" ? 1 : 0;
  return plots;
}

// Returns the plots written.
int write_outputs(TrainingSession::State& s, RunEnd end) {
  monitor::PhaseScope phase(s.monitor.get(), monitor::Phase::plot);
  // Rank 0 merges every rank's bounded sample into one of the same cap; the others only send theirs.
  std::vector<eval::SplitResult> splits;
  if (s.val.epoch >= 0) {
    splits.push_back({"val", s.ranks->merged_sample(*s.val.buffer, "val", s.config.seed), s.val.metrics.get(), s.val.epoch});
  }
  if (s.test.epoch >= 0) {
    splits.push_back(
        {"test", s.ranks->merged_sample(*s.test.buffer, "test", s.config.seed + 1), s.test.metrics.get(), s.test.epoch});
  }
  if (!s.ranks->is_writer()) return 0;
  int plots = 0;
  try {
    plots += count_plots(eval::write_final_outputs(s.layout, s.data.target_names, splits, run_summary(s, end),
                                                   {/*memory=*/false, /*report=*/false},
                                                   s.data.ids.empty() ? nullptr : &s.data.ids));
  } catch (const std::exception& e) {
    // A plotting failure must not cost the run: checkpoints and CSVs are already on disk.
    log::error("final plots: ", e.what());
  }
  if (end != RunEnd::completed && end != RunEnd::early_stopped) return plots;  // a stopped run leaves at once
  try {
    plots += write_importance(s);
  } catch (const std::exception& e) {
    log::error("feature importance: ", e.what());
  }
  return plots;
}

int64_t bytes_of(const torch::Tensor& t) { return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0; }

// Parameters, their gradients and the optimizer's per-parameter state (Adam's moments, SGD's momentum), measured.
int64_t model_state_bytes(torch::nn::Module& model, torch::optim::Optimizer& optimizer) {
  int64_t bytes = 0;
  for (const auto& p : model.parameters()) bytes += bytes_of(p) + bytes_of(p.grad());
  for (const auto& [key, state] : optimizer.state()) {
    if (const auto* a = dynamic_cast<const torch::optim::AdamParamState*>(state.get())) {
      bytes += bytes_of(a->exp_avg()) + bytes_of(a->exp_avg_sq()) + bytes_of(a->max_exp_avg_sq());
    } else if (const auto* w = dynamic_cast<const torch::optim::AdamWParamState*>(state.get())) {
      bytes += bytes_of(w->exp_avg()) + bytes_of(w->exp_avg_sq()) + bytes_of(w->max_exp_avg_sq());
    } else if (const auto* m = dynamic_cast<const torch::optim::SGDParamState*>(state.get())) {
      bytes += bytes_of(m->momentum_buffer());
    }
  }
  return bytes;
}

}  // namespace

int64_t data_bytes(const data::PreparedData& d) {
  int64_t bytes = 0;
  for (const auto* s : {&d.train, &d.val, &d.test}) bytes += bytes_of(s->x) + bytes_of(s->y) + bytes_of(s->row_ids);
  return bytes;
}

void release_training_state(TrainingSession::State& s) {
  if (s.monitor) s.monitor->set_known_bytes("model_state", model_state_bytes(*s.model, *s.optimizer));
  s.model->zero_grad(/*set_to_none=*/true);
  s.optimizer->state().clear();
  s.train_loader.reset();
  s.data.train = {};
  monitor::release_cached_memory();
}

void write_final_stage(TrainingSession::State& s, RunEnd end) {
  int plots = write_outputs(s, end);
  // Every figure the stage drew, memory.png included, in one true count.
  const auto report_plots = [&] {
    if (s.ranks->is_writer()) log::info("plots: wrote ", plots, " files under ", s.layout.plots().string());
  };
  s.val.buffer->clear();
  s.test.buffer->clear();
  monitor::release_cached_memory();
  if (!s.monitor) return report_plots();
  s.monitor->stop();
  if (s.ranks->distributed()) {
    // Every rank's report goes to rank 0: per-rank peaks and growth, the worst rank's verdict.
    const auto reports = s.ranks->gather_to_writer("memory_report", s.monitor->report());
    if (!s.ranks->is_writer()) {
      log::info(s.monitor->verdict_line());
      return report_plots();
    }
    write_file_atomically(s.layout.memory_report(), combine_rank_reports(reports).dump(2) + "\n");
  } else {
    s.monitor->write_report(s.layout.memory_report());
  }
  try {
    eval::write_memory_curve(s.layout.memory_csv(s.ranks->rank(), s.ranks->world_size()), s.layout.plot("memory"));
    ++plots;
  } catch (const std::exception& e) {
    log::error("memory plot: ", e.what());
  }
  report_plots();
  log::info(s.monitor->verdict_line(), "; cache trims: ", monitor::trim_count(), " process-wide (",
            s.monitor->report().value("alarm_trims", 0), " on memory alarms; memory_report.json \"trims\", "
            "\"alarm_trims\")");
}

}  // namespace safetrain::train
