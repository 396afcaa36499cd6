#include "safetrain/train/checkpoint.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/train/state_dict.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {
namespace {

// Serialised in memory, then written by our checked writer: LibTorch's file writer throws again
// from its destructor on a full disk (std::terminate, exit 134). This callback cannot fail, so
// the archive writer never has an error to rethrow; running out of memory is reported afterwards.
std::string archive_bytes(torch::serialize::OutputArchive& archive) {
  std::string bytes;
  bool out_of_memory = false;
  archive.save_to([&](const void* data, size_t size) -> size_t {
    try {
      if (!out_of_memory) bytes.append(static_cast<const char*>(data), size);
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    }
    return size;
  });
  if (out_of_memory) throw std::bad_alloc();
  return bytes;
}

// Renames and removals of the staging directory report failures as IoError naming the path.
[[noreturn]] void rethrow_as_io_error(const fs::filesystem_error& e) {
  throw_write_error(e.path2().empty() ? e.path1() : e.path2(), e.code().value(), "cannot write checkpoint");
}

nlohmann::json tracker_json(const ImprovementTracker& t) { return {{"best", t.best}, {"bad_checks", t.bad_checks}}; }
ImprovementTracker tracker_from(const nlohmann::json& j) {
  ImprovementTracker t;
  t.best = j.at("best").is_null() ? std::numeric_limits<double>::infinity() : j.at("best").get<double>();
  t.bad_checks = j.at("bad_checks").get<int64_t>();
  return t;
}
// JSON has no infinity: store it as null.
nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json state_json(const TrainingState& s) {
  nlohmann::json early = tracker_json(s.early_stopping);
  early["best"] = finite_or_null(s.early_stopping.best);
  nlohmann::json plateau = tracker_json(s.schedule.tracker);
  plateau["best"] = finite_or_null(s.schedule.tracker.best);
  return {{"format", "safetrain-checkpoint-1"},
          {"epochs_completed", s.epochs_completed},
          {"global_step", s.global_step},
          {"best_metric", finite_or_null(s.best_metric)},
          {"best_epoch", s.best_epoch},
          {"nan_skipped", s.nan_skipped},
          {"scaler", {{"scale", s.scaler.scale}, {"growth_tracker", s.scaler.growth_tracker},
                      {"skipped_steps", s.scaler.skipped_steps}}},
          {"schedule", {{"plateau", plateau}, {"reductions", s.schedule.reductions}}},
          {"early_stopping", early},
          {"feature_names", s.feature_names},
          {"target_names", s.target_names},
          {"model_type", s.model_type}};
}

TrainingState state_from(const nlohmann::json& j) {
  TrainingState s;
  s.epochs_completed = j.at("epochs_completed").get<int64_t>();
  s.global_step = j.at("global_step").get<int64_t>();
  s.best_metric = j.at("best_metric").is_null() ? std::numeric_limits<double>::infinity()
                                                : j.at("best_metric").get<double>();
  s.best_epoch = j.at("best_epoch").get<int64_t>();
  s.nan_skipped = j.at("nan_skipped").get<int64_t>();
  s.scaler.scale = j.at("scaler").at("scale").get<double>();
  s.scaler.growth_tracker = j.at("scaler").at("growth_tracker").get<int64_t>();
  s.scaler.skipped_steps = j.at("scaler").at("skipped_steps").get<int64_t>();
  s.schedule.tracker = tracker_from(j.at("schedule").at("plateau"));
  s.schedule.reductions = j.at("schedule").at("reductions").get<int64_t>();
  s.early_stopping = tracker_from(j.at("early_stopping"));
  s.feature_names = j.at("feature_names").get<std::vector<std::string>>();
  s.target_names = j.at("target_names").get<std::vector<std::string>>();
  s.model_type = j.at("model_type").get<std::string>();
  return s;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": missing from the checkpoint (incomplete or not a safetrain checkpoint)");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

torch::serialize::InputArchive open_archive(const fs::path& file) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(file.string());
  } catch (const c10::Error& e) {
    throw InputError(file.string() + ": cannot read (corrupt checkpoint?): " + std::string(e.what_without_backtrace()));
  }
  return archive;
}

// Swap `fresh` into place as `target` atomically; the previous contents end up in `fresh`.
void swap_into_place(const fs::path& fresh, const fs::path& target) {
  if (fs::exists(target)) {
    if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
      fs::remove_all(fresh);
      return;
    }
    // File systems without RENAME_EXCHANGE: a short window where only target.old exists; the loader checks it.
    const fs::path old = target.string() + ".old";
    fs::remove_all(old);
    fs::rename(target, old);
    fs::rename(fresh, target);
    fs::remove_all(old);
    return;
  }
  fs::rename(fresh, target);
}

}  // namespace

void save_checkpoint(const fs::path& dir, const CheckpointWrite& c) {
  const fs::path parent = dir.parent_path();
  const fs::path staging = parent / ("." + dir.filename().string() + ".partial");
  // Any failure below leaves the previous checkpoint untouched (it is only replaced by the
  // final swap), removes the half-written staging directory and throws IoError/DiskFullError.
  try {
    fs::create_directories(parent);
    fs::remove_all(staging);
    fs::create_directories(staging);
    save_state_dict(*c.model, staging / "model.pt");
    if (c.optimizer) {
      torch::serialize::OutputArchive archive;
      c.optimizer->save(archive);
      write_file_atomically(staging / "optimizer.pt", archive_bytes(archive));
    }
    torch::serialize::OutputArchive extras;
    extras.write("feature_mean", c.scaling.feature_mean);
    extras.write("feature_std", c.scaling.feature_std);
    extras.write("target_mean", c.scaling.target_mean);
    extras.write("target_std", c.scaling.target_std);
    extras.write("rng_cpu", at::detail::getDefaultCPUGenerator().get_state());
    write_file_atomically(staging / "extras.pt", archive_bytes(extras));
    write_file_atomically(staging / "state.json", state_json(c.state).dump(2) + "\n");
    write_file_atomically(staging / "config.yaml", c.config_yaml);
    fsync_directory(staging);
    swap_into_place(staging, dir);
  } catch (const fs::filesystem_error& e) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    rethrow_as_io_error(e);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw;
  }
  fsync_directory(parent);
}

CheckpointMeta read_checkpoint_meta(const fs::path& dir) {
  if (!fs::is_directory(dir)) {
    throw InputError(dir.string() + ": no such checkpoint directory (expected RUN_DIR/checkpoints/last or best)");
  }
  CheckpointMeta meta;
  meta.dir = dir;
  const fs::path state_file = dir / "state.json";
  try {
    const auto j = nlohmann::json::parse(read_file(state_file));
    if (j.value("format", "") != "safetrain-checkpoint-1") throw InputError(state_file.string() + ": unknown format");
    meta.state = state_from(j);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(state_file.string() + ": corrupt checkpoint state: " + e.what());
  }
  meta.config_yaml = read_file(dir / "config.yaml");
  return meta;
}

ScalingTensors read_scaling(const fs::path& dir) {
  auto archive = open_archive(dir / "extras.pt");
  ScalingTensors s;
  try {
    archive.read("feature_mean", s.feature_mean);
    archive.read("feature_std", s.feature_std);
    archive.read("target_mean", s.target_mean);
    archive.read("target_std", s.target_std);
  } catch (const c10::Error& e) {
    throw InputError((dir / "extras.pt").string() + ": missing scaling: " + e.what_without_backtrace());
  }
  return s;
}

void load_optimizer_state(const fs::path& dir, torch::optim::Optimizer& optimizer) {
  auto archive = open_archive(dir / "optimizer.pt");
  try {
    optimizer.load(archive);
  } catch (const c10::Error& e) {
    throw InputError((dir / "optimizer.pt").string() + ": does not match this optimizer: " + e.what_without_backtrace());
  }
}

void restore_rng_state(const fs::path& dir) {
  auto archive = open_archive(dir / "extras.pt");
  torch::Tensor state;
  archive.read("rng_cpu", state);
  auto generator = at::detail::getDefaultCPUGenerator();  // a handle: copies share the engine
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

}  // namespace safetrain::train
