// The end-of-training stage, run once (also after a clean stop): predictions, metrics.json, every plot through
// the same path as plot_run, then the memory report and its plot once the monitor has stopped.
#include <tuple>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/eval/final_stage.hpp"
#include "safetrain/eval/importance.hpp"
#include "safetrain/eval/plots.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/memory_estimate.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/train/optimization.hpp"
#include "safetrain/train/callbacks.hpp"
#include "safetrain/train/rank_reports.hpp"
#include "session_state.hpp"

namespace safetrain::train {
namespace {

bool ran_to_its_end(RunEnd end) { return end == RunEnd::completed || end == RunEnd::early_stopped; }

nlohmann::json run_summary(const TrainingSession::State& s, RunEnd end) {
  const auto* best = s.callbacks.checkpoint();
  const auto& c = s.run.config;
  return {{"end", run_end_name(end)},
          {"best_epoch", best ? best->best_epoch() : -1},
          {"loss_units", loss_units(c.data.split.standardize_targets)},
          {"averages", kAveragedFigures},
          {"monitor", name_of(c.training.monitor)},
          {"epochs_completed", s.training.counters.epochs_completed},
          {"nan_batches_skipped", s.training.counters.nan_skipped},
          {"loss_scaler_skipped_steps", s.training.scaler->skipped_steps()},
          {"val_buffer",
           {{"capacity", c.memory.max_validation_outputs},
            {"largest_rows", s.evaluation.largest_val_buffer_rows},
            {"largest_bytes", s.evaluation.largest_val_buffer_bytes}}}};
}

// Permutation importance of the final model (best weights after the test) on the validation split. Returns the
// plots written.
int write_importance(const RunResources& run, const data::PreparedData& data, ModelTraining& training) {
  const auto& c = run.config;
  auto options = c.importance;
  if (!options.enabled || data.val.size() == 0 || data.feature_names.empty()) return 0;
  monitor::PhaseScope phase(run.monitor.get(), monitor::Phase::importance);
  torch::NoGradGuard no_grad;
  training.model->eval();
  options.seed = c.seed;
  // Bounded by a training step's activations and its largest tensor, so the final stage never peaks above training.
  const auto spec = infer::model_spec_from(c, static_cast<int64_t>(data.feature_names.size()), data.target_names);
  const int64_t bound = models::inference_rows_within_training(spec, c.training.batch_size, c.training.precision);
  if (options.batch_rows > bound) {
    log::info("importance: batches of at most ", bound, " rows (importance.batch_rows ", options.batch_rows,
              " would hold more activations, or larger tensors, than a training step)");
    options.batch_rows = bound;
  }
  const auto forward = training.forward();
  const auto result = eval::permutation_importance([&](const torch::Tensor& x) { return forward(x.to(run.device)); },
                                                   data.val.x, data.val.y, data.feature_names, options);
  monitor::release_cached_memory();  // the batches' blocks: the plot stage goes on at its own level
  log::info("importance: ", result.features.size(), " features, ", result.rows, " validation rows x ", result.repeats,
            " shuffles, batches of <= ", result.largest_batch_rows, " rows");
  eval::write_importance_csv(result, run.layout.importance_csv());
  eval::write_importance_plot(result, run.layout.plot("importance"), 20, loss_units(c.data.split.standardize_targets));
  return 1;
}

int count_plots(const std::vector<std::filesystem::path>& files) {
  int plots = 0;
  for (const auto& f : files) plots += f.extension() == ".png" ? 1 : 0;
  return plots;
}

// Predictions, metrics.json and the split plots. Returns the plots written.
int write_split_outputs(const RunResources& run, const Evaluation& evaluation, const data::PreparedData& data,
                        const nlohmann::json& summary) {
  // Rank 0 merges every rank's bounded sample into one of the same cap; the others only send theirs.
  std::vector<eval::SplitResult> splits;
  const uint64_t seed = run.config.seed;
  const std::tuple<const char*, const SplitMeters*, uint64_t> parts[] = {{"val", &evaluation.val, seed},
                                                                         {"test", &evaluation.test, seed + 1}};
  for (const auto& [name, split, sample_seed] : parts) {
    if (split->epoch < 0) continue;
    splits.push_back({name, run.ranks->merged_sample(*split->buffer, name, sample_seed), split->metrics.get(),
                      split->epoch});
  }
  if (!run.ranks->is_writer()) return 0;
  try {
    return count_plots(eval::write_final_outputs(run.layout, data.target_names, splits, summary,
                                                 {/*memory=*/false, /*report=*/false},
                                                 data.ids.empty() ? nullptr : &data.ids));
  } catch (const std::exception& e) {
    // A plotting failure must not cost the run: checkpoints and CSVs are already on disk.
    log::error("final plots: ", e.what());
    return 0;
  }
}

// Returns the plots written.
int write_outputs(TrainingSession::State& s, RunEnd end) {
  monitor::PhaseScope phase(s.run.monitor.get(), monitor::Phase::plot);
  int plots = write_split_outputs(s.run, s.evaluation, s.data.prepared, run_summary(s, end));
  if (!s.run.ranks->is_writer() || !ran_to_its_end(end)) return plots;  // a stopped run leaves at once
  try {
    plots += write_importance(s.run, s.data.prepared, s.training);
  } catch (const std::exception& e) {
    log::error("feature importance: ", e.what());
  }
  return plots;
}

// memory_report.json (rank 0: every rank's report, with per-rank peaks and growth and the worst rank's verdict)
// and memory.png, once the monitor has stopped. Returns the plots written.
int write_memory_outputs(RunResources& run) {
  run.monitor->stop();
  if (run.ranks->distributed()) {
    const auto reports = run.ranks->gather_to_writer("memory_report", run.monitor->report());
    if (!run.ranks->is_writer()) return 0;
    write_file_atomically(run.layout.memory_report(), combine_rank_reports(reports).dump(2) + "\n");
  } else {
    run.monitor->write_report(run.layout.memory_report());
  }
  try {
    eval::write_memory_curve(run.layout.memory_csv(run.ranks->rank(), run.ranks->world_size()), run.layout.plot("memory"));
    return 1;
  } catch (const std::exception& e) {
    log::error("memory plot: ", e.what());
    return 0;
  }
}

// Parameters, their gradients and the optimizer's per-parameter state (Adam's moments, SGD's momentum), measured.
int64_t model_state_bytes(torch::nn::Module& model, const torch::optim::Optimizer& optimizer) {
  int64_t bytes = optimizer_state_bytes(optimizer);
  for (const auto& p : model.parameters()) {
    for (const auto& t : {p, p.grad()}) bytes += t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
  }
  return bytes;
}

}  // namespace

void release_training_state(monitor::MemoryMonitor* monitor, ModelTraining& training, data::RunData& data) {
  if (monitor) monitor->set_known_bytes("model_state", model_state_bytes(*training.model, *training.optimizer));
  training.model->zero_grad(/*set_to_none=*/true);
  training.optimizer->state().clear();
  data.train_loader.reset();
  data.prepared.train = {};
  monitor::release_cached_memory();
}

void write_final_stage(TrainingSession::State& s, RunEnd end) {
  int plots = write_outputs(s, end);
  s.evaluation.val.buffer->clear();
  s.evaluation.test.buffer->clear();
  monitor::release_cached_memory();
  auto& run = s.run;
  if (run.monitor) plots += write_memory_outputs(run);
  // Every figure the stage drew, memory.png included, in one true count.
  if (run.ranks->is_writer()) log::info("plots: wrote ", plots, " files under ", run.layout.plots().string());
  if (!run.monitor) return;
  if (!run.ranks->is_writer()) {
    log::info(run.monitor->verdict_line());
    return;
  }
  log::info(run.monitor->verdict_line(), "; cache trims: ", monitor::trim_count(), " process-wide (",
            run.monitor->report().value("alarm_trims", 0), " on memory alarms; memory_report.json \"trims\", "
            "\"alarm_trims\")");
}

}  // namespace safetrain::train
