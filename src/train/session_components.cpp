// The checkpoint's components: each stateful part gives its own state_dict and takes it back on resume, as
// Lightning's checkpoint_connector collects them. A callback with state adds itself by name.
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/monitor/phase.hpp"
#include "safetrain/train/input_fingerprint.hpp"
#include "session_state.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {

nlohmann::json TrainingSession::State::components() const {
  nlohmann::json c = nlohmann::json::object();
  c["counters"] = training.counters.state_dict();
  c["data"] = {{"feature_names", data.prepared.feature_names},
               {"target_names", data.prepared.target_names},
               {"input", input}};
  c["model"] = {{"type", name_of(run.config.model.type)}};
  c["grad_scaler"] = training.scaler->state_dict();
  if (run.ranks->distributed()) c["distributed"] = {{"world_size", run.ranks->world_size()}};
  for (const auto& callback : callbacks.all()) {
    auto state = callback->state_dict();
    if (!state.is_null()) c[callback->name()] = std::move(state);
  }
  return c;
}

// The ranks' shards, steps per epoch and the sampler's padding depend on the world size, so a run
// resumes only with the one it was written with (a checkpoint without the component: one process).
void check_world_size(const RankGroup& ranks, const infer::CheckpointMeta& meta) {
  int64_t written_by = 1;
  if (meta.components.contains("distributed")) written_by = meta.components.at("distributed").value("world_size", 1);
  if (written_by != ranks.world_size()) {
    throw InputError(meta.dir.string() + ": this checkpoint was written by a run of " + std::to_string(written_by) +
                     " rank(s); this run has " + std::to_string(ranks.world_size()) +
                     ": resume with the same world size (WORLD_SIZE / --nproc-per-node / srun -n " +
                     std::to_string(written_by) + ")");
  }
}

// A resumed run carries on with the rows it trained on, or not at all: other rows would re-split (test rows
// that were training rows) and metrics.csv would mix two datasets.
void TrainingSession::State::check_same_input(const infer::CheckpointMeta& meta) const {
  const auto& recorded = meta.component("data");
  if (!recorded.contains("input")) {
    log::warn(meta.dir.string(), " records no input fingerprint (an older checkpoint): the input is not checked");
    return;
  }
  const std::string difference = input_difference(recorded.at("input"), input);
  if (difference.empty()) return;
  throw InputError(meta.dir.string() + ": --resume needs the input this run trained on, but " + difference +
                   "; restore that input, or train on the new one in a new run: trainer --config " +
                   run.layout.config().string() + " --set output.run_name=NEW_NAME");
}

void TrainingSession::State::load_components(const infer::CheckpointMeta& meta) {
  if (meta.feature_names() != data.prepared.feature_names || meta.target_names() != data.prepared.target_names) {
    throw InputError(meta.dir.string() + ": the checkpoint was trained on other columns than this data gives");
  }
  check_same_input(meta);
  infer::load_optimizer_state(meta.dir, *training.optimizer);
  infer::restore_rng_state(meta.dir);
  try {
    training.counters.load_state_dict(meta.component("counters"));
    training.scaler->load_state_dict(meta.component("grad_scaler"));
    for (const auto& callback : callbacks.all()) {
      if (meta.components.contains(callback->name())) {
        callback->load_state_dict(meta.components.at(callback->name()));
      } else if (!callback->state_dict().is_null()) {
        log::warn("checkpoint ", meta.dir.string(), " has no state for '", callback->name(), "': it starts fresh");
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError((meta.dir / "state.json").string() + ": corrupt checkpoint state: " + e.what());
  } catch (const std::out_of_range& e) {
    throw InputError((meta.dir / "state.json").string() + ": corrupt checkpoint state: " + e.what());
  }
  log::info("resuming after epoch ", training.counters.epochs_completed, " from ", meta.dir.string());
}

void TrainingSession::State::save(const fs::path& dir) {
  if (!run.ranks->is_writer()) return;  // rank 0 writes the one set of checkpoints
  monitor::PhaseScope phase(run.monitor.get(), monitor::Phase::checkpoint);
  const auto& d = data.prepared;
  infer::CheckpointWrite contents;
  contents.model = training.model.get();
  contents.optimizer = training.optimizer.get();
  contents.scaling = {d.feature_scaler.mean, d.feature_scaler.std, d.target_scaler.mean, d.target_scaler.std};
  contents.components = components();
  contents.config_yaml = config::typed_yaml(run.config);
  infer::save_checkpoint(dir, contents);
}

Forward ModelTraining::forward() {
  return [this](const torch::Tensor& x) { return model->forward(x); };
}

StepParts ModelTraining::step_parts(torch::Device device, StepSync* sync) {
  return StepParts{*model, forward(), *optimizer, *scaler, precision, device, sync};
}

EvalParts TrainingSession::State::eval_parts(SplitMeters& split, data::Loader& loader) {
  return EvalParts{*training.model, training.forward(), training.precision, run.device, loader,
                   data.prepared.target_scaler, *split.metrics, *split.buffer, split.pieces};
}

}  // namespace safetrain::train
