#include "safetrain/infer/checkpoint.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>
#include <algorithm>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/streamed_file.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/device/accelerator.hpp"
#include "safetrain/models/state_dict.hpp"
#include "checkpoint_manifest.hpp"

namespace fs = std::filesystem;

namespace safetrain::infer {
namespace {

// Streamed record by record into the file (no whole-archive buffer: for the transformer that was
// 48 MB of weights and 96 MB of Adam moments on top of training's peak), through our checked writer.
void save_archive(torch::serialize::OutputArchive& archive, const fs::path& file) {
  write_streamed_atomically(file, [&](const ChunkSink& sink) { archive.save_to(sink); });
}

// Renames and removals of the staging directory report failures as IoError naming the path.
[[noreturn]] void rethrow_as_io_error(const fs::filesystem_error& e) {
  throw_write_error(e.path2().empty() ? e.path1() : e.path2(), e.code().value(), "cannot write checkpoint");
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": missing from the checkpoint (incomplete or not a safetrain checkpoint)");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every file a checkpoint may hold besides state.json; state.json records their sizes and checksums.
const std::vector<std::string> kCheckpointFiles = {"model.pt", "optimizer.pt", "scaling.pt", "rng.pt", "config.yaml"};

// Refuses a state.json of another format or version, naming what it found.
void check_format(const nlohmann::json& j, const fs::path& state_file) {
  const std::string format = j.is_object() ? j.value("format", "") : "";
  if (format == "safetrain-checkpoint-1") {
    throw InputError(state_file.string() + ": checkpoint format version 1 (safetrain-checkpoint-1) is from an older "
                     "safetrain; this version reads format version " + std::to_string(kCheckpointFormatVersion) +
                     " only: retrain, or finish the run with the safetrain that wrote it");
  }
  if (format != kCheckpointFormat) throw InputError(state_file.string() + ": not a safetrain checkpoint");
  const int version = j.value("format_version", 0);
  if (version != kCheckpointFormatVersion) {
    throw InputError(state_file.string() + ": checkpoint format version " + std::to_string(version) +
                     " is not readable by this safetrain (it reads version " +
                     std::to_string(kCheckpointFormatVersion) + ")");
  }
  if (!j.contains("components") || !j["components"].is_object()) {
    throw InputError(state_file.string() + ": corrupt checkpoint state: no components");
  }
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

// "cuda:1" -> "cuda_1": archive keys are attribute names.
std::string archive_key(const std::string& device_name) {
  std::string key = device_name;
  std::replace(key.begin(), key.end(), ':', '_');
  return key;
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
    models::save_state_dict(*c.model, staging / "model.pt");
    if (c.optimizer) {
      torch::serialize::OutputArchive archive;
      c.optimizer->save(archive);
      save_archive(archive, staging / "optimizer.pt");
    }
    torch::serialize::OutputArchive scaling;
    scaling.write("feature_mean", c.scaling.feature_mean);
    scaling.write("feature_std", c.scaling.feature_std);
    scaling.write("target_mean", c.scaling.target_mean);
    scaling.write("target_std", c.scaling.target_std);
    save_archive(scaling, staging / "scaling.pt");
    torch::serialize::OutputArchive rng;
    rng.write("cpu", at::detail::getDefaultCPUGenerator().get_state());
    // Every device generator too (dropout on CUDA draws from them): a CUDA resume continues bit-exact.
    for (const auto& [name, state] : device::rng_states()) rng.write(archive_key(name), state);
    save_archive(rng, staging / "rng.pt");
    write_file_atomically(staging / "config.yaml", c.config_yaml);
    const nlohmann::json state = {{"format", kCheckpointFormat},
                                  {"format_version", kCheckpointFormatVersion},
                                  {"components", c.components},
                                  {"files", file_manifest(staging, kCheckpointFiles)}};
    write_file_atomically(staging / "state.json", state.dump(2) + "\n");
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
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(state_file));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(state_file.string() + ": corrupt checkpoint state: " + e.what());
  }
  check_format(j, state_file);
  verify_manifest(dir, j.contains("files") ? j["files"] : nlohmann::json());
  meta.components = j["components"];
  meta.config_yaml = read_file(dir / "config.yaml");
  return meta;
}

ScalingTensors read_scaling(const fs::path& dir) {
  auto archive = open_archive(dir / "scaling.pt");
  ScalingTensors s;
  try {
    archive.read("feature_mean", s.feature_mean);
    archive.read("feature_std", s.feature_std);
    archive.read("target_mean", s.target_mean);
    archive.read("target_std", s.target_std);
  } catch (const c10::Error& e) {
    throw InputError((dir / "scaling.pt").string() + ": missing scaling: " + e.what_without_backtrace());
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
  auto archive = open_archive(dir / "rng.pt");
  torch::Tensor state;
  try {
    archive.read("cpu", state);
  } catch (const c10::Error& e) {
    throw InputError((dir / "rng.pt").string() + ": missing generator state: " + e.what_without_backtrace());
  }
  {
    auto generator = at::detail::getDefaultCPUGenerator();  // a handle: copies share the engine
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(state);
  }
  std::vector<std::pair<std::string, torch::Tensor>> device_states;
  for (const auto& key : archive.keys()) {
    if (key.rfind("cuda_", 0) != 0) continue;
    torch::Tensor device_state;
    archive.read(key, device_state);
    device_states.emplace_back("cuda:" + key.substr(5), device_state);
  }
  for (const auto& name : device::restore_rng_states(device_states)) {
    log::warn((dir / "rng.pt").string(), ": the generator of ", name,
              " has no device here; this resume draws other random numbers there than the original run");
  }
}

}  // namespace safetrain::infer

namespace safetrain::infer {

const nlohmann::json& CheckpointMeta::component(const std::string& name) const {
  if (!components.contains(name)) {
    throw InputError((dir / "state.json").string() + ": corrupt checkpoint state: no '" + name + "' component");
  }
  return components.at(name);
}

std::vector<std::string> CheckpointMeta::feature_names() const {
  return component("data").at("feature_names").get<std::vector<std::string>>();
}

std::vector<std::string> CheckpointMeta::target_names() const {
  return component("data").at("target_names").get<std::vector<std::string>>();
}

int64_t CheckpointMeta::epochs_completed() const {
  return component("counters").at("epochs_completed").get<int64_t>();
}

}  // namespace safetrain::infer
