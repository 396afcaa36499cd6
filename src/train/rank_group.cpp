// RankGroup: the session's view of the data-parallel ranks (see rank_group.hpp).
#include "safetrain/train/rank_group.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/eval/sample_merge.hpp"

namespace safetrain::train {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A stop as one number the ranks all-reduce with MAX: the more severe end wins (RunEnd's order: a memory
// alarm outranks a signal, which outranks early stopping), and a signal carries its number.
int64_t encode(std::optional<RunEnd> end) {
  if (!end) return 0;
  const int64_t signal = *end == RunEnd::signal ? StopSignals::signal_number() : 0;
  return (static_cast<int64_t>(*end) + 1) * 256 + signal;
}

std::optional<RunEnd> decode(int64_t code) {
  if (code == 0) return std::nullopt;
  const auto end = static_cast<RunEnd>(code / 256 - 1);
  if (end == RunEnd::signal) StopSignals::adopt(static_cast<int>(code % 256));  // exit 128 + that signal here too
  return end;
}

std::string to_bytes(const std::vector<torch::Tensor>& tensors) {
  const auto bytes = torch::pickle_save(c10::IValue(tensors));
  return std::string(bytes.begin(), bytes.end());
}

std::vector<torch::Tensor> from_bytes(const std::string& text) {
  return torch::pickle_load(std::vector<char>(text.begin(), text.end())).toTensorVector();
}

// What two ranks' values of one part look like where they first differ: a text's first differing line.
std::string first_difference(const nlohmann::json& mine, const nlohmann::json& reference) {
  if (mine.is_string() && reference.is_string()) {
    const auto a = text::split(mine.get<std::string>(), '\n'), b = text::split(reference.get<std::string>(), '\n');
    std::string section;  // YAML: the enclosing section's line, so "hidden: 64" reads "model: hidden: 64"
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      const std::string x = i < a.size() ? a[i] : "", y = i < b.size() ? b[i] : "";
      if (x != y) {
        const std::string at = x.rfind(' ', 0) == 0 ? section + " " : "";
        return "'" + text::excerpt(at + text::trim(x), 70) + "' against '" + text::excerpt(at + text::trim(y), 70) + "'";
      }
      if (!x.empty() && x[0] != ' ') section = x;
    }
  }
  return text::excerpt(mine.dump(), 80) + " against " + text::excerpt(reference.dump(), 80);
}

}  // namespace

dist::LaunchEnv launch_env_for(const config::Config& config, const dist::EnvLookup& env) {
  auto launch = dist::read_launch_env(env);
  if (launch.launcher == "slurm" && config.training.strategy != Strategy::ddp) {
    if (launch.world_size > 1) {
      log::info("SLURM_NTASKS=", launch.world_size, " but training.strategy is single: one process (set "
                "training.strategy: ddp to train on every task)");
    }
    return dist::LaunchEnv{};
  }
  return launch;
}

std::unique_ptr<RankGroup> RankGroup::from_environment(const config::Config& config, bool cuda) {
  auto group = std::make_unique<RankGroup>();
  group->env_ = launch_env_for(config, dist::process_environment());
  if (!group->env_.distributed()) {
    if (config.training.strategy == Strategy::ddp) log::info("training.strategy: ddp with one rank: a single process");
    return group;
  }
  log::set_prefix("[rank " + std::to_string(group->env_.rank) + "] ");
  dist::ConnectOptions options;
  options.env = group->env_;
  const auto backend = config.training.ddp_backend;
  options.backend = backend == DdpBackend::nccl || (backend == DdpBackend::automatic && cuda && dist::nccl_available())
                        ? dist::Backend::nccl
                        : dist::Backend::gloo;
  options.timeout = std::chrono::seconds(config.training.ddp_timeout_s);
  group->timeout_ = options.timeout;
  group->communicator_ = dist::connect(options);
  return group;
}

std::string RankGroup::share_from_writer(const std::string& key, const std::function<std::string()>& compute,
                                         std::chrono::milliseconds wait) {
  if (!distributed()) return compute();
  if (is_writer()) {
    auto text = compute();
    communicator_->publish(key, text);
    return text;
  }
  return communicator_->fetch(key, wait);
}

void RankGroup::check_agreement(const nlohmann::json& record) {
  if (!distributed()) return;
  communicator_->publish("agreement/" + std::to_string(rank()), record.dump());
  // Every rank reads every record, so all of them end with the same message.
  const auto reference = rank() == 0 ? record : nlohmann::json::parse(communicator_->fetch("agreement/0", timeout_));
  for (int r = 1; r < world_size(); ++r) {
    const auto other =
        r == rank() ? record : nlohmann::json::parse(communicator_->fetch("agreement/" + std::to_string(r), timeout_));
    for (const auto& [part, value] : reference.items()) {
      const auto theirs = other.value(part, nlohmann::json());
      if (theirs == value) continue;
      throw InputError("ddp: rank " + std::to_string(r) + " disagrees with rank 0 on the " + part + ": " +
                       first_difference(theirs, value) + "; every rank must run the same config on the same rows " +
                       "(a stale copy of the data on one machine? another job on MASTER_PORT?)");
    }
  }
}

void RankGroup::broadcast_module(torch::nn::Module& module) {
  if (!distributed()) return;
  torch::NoGradGuard no_grad;
  for (auto tensor : module.parameters()) communicator_->broadcast(tensor, 0);
  for (auto tensor : module.buffers()) communicator_->broadcast(tensor, 0);
}

void RankGroup::attach_parameters(std::vector<torch::Tensor> parameters, double bucket_mb) {
  if (!distributed()) return;
  // Frozen parameters have no gradient to average (and must not get a zero one the optimizer would act on).
  parameters.erase(std::remove_if(parameters.begin(), parameters.end(), [](const auto& p) { return !p.requires_grad(); }),
                   parameters.end());
  buckets_ = std::make_unique<dist::GradientBuckets>(std::move(parameters),
                                                     static_cast<int64_t>(bucket_mb * 1048576.0));
  log::info("ddp: gradients averaged in ", buckets_->bucket_count(), " bucket(s) of at most ", bucket_mb, " MB (",
            buckets_->bucket_bytes_total() / 1024, " KiB held)");
}

std::optional<RunEnd> RankGroup::agree_on_stop(std::optional<RunEnd> local) {
  if (!distributed()) return local;
  const auto start = std::chrono::steady_clock::now();
  auto flag = torch::full({1}, encode(local), torch::kLong);
  communicator_->all_reduce(flag, dist::Reduce::max);
  collective_seconds_ += seconds_since(start);
  return decode(flag.item<int64_t>());
}

void RankGroup::average_gradients() {
  if (!buckets_) return;
  const auto start = std::chrono::steady_clock::now();
  buckets_->average(*communicator_);
  collective_seconds_ += seconds_since(start);
}

void RankGroup::sum_loss_and_samples(double& loss_sum, int64_t& samples) {
  auto sums = torch::tensor({loss_sum, static_cast<double>(samples)}, torch::kDouble);
  communicator_->all_reduce(sums, dist::Reduce::sum);
  loss_sum = sums[0].item<double>();
  samples = static_cast<int64_t>(sums[1].item<double>());
}

void RankGroup::combine(TrainPass& pass) {
  if (!distributed()) return;
  sum_loss_and_samples(pass.loss_sum, pass.samples);
  pass.mean_loss = pass.samples > 0 ? pass.loss_sum / static_cast<double>(pass.samples) : NAN;
}

void RankGroup::combine(EvalPass& pass, eval::StreamingMetrics& metrics) {
  if (!distributed()) return;
  sum_loss_and_samples(pass.loss_sum, pass.samples);
  pass.loss = pass.samples > 0 ? pass.loss_sum / static_cast<double>(pass.samples) : NAN;
  // Every rank merges the same accumulators in rank order, so all hold identical metrics.
  const auto own = metrics.accumulators();
  const auto gathered = communicator_->all_gather(torch::tensor(own, torch::kDouble));
  metrics.reset();
  for (const auto& part : gathered) {
    const auto values = part.contiguous();
    metrics.merge(std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel()));
  }
}

eval::BufferedOutputs RankGroup::merged_sample(const eval::OutputBuffer& buffer, const std::string& split,
                                               uint64_t seed) {
  auto own = buffer.snapshot();
  if (!distributed()) return own;
  const std::string key = "sample/" + split + "/";
  if (!is_writer()) {
    communicator_->publish(key + std::to_string(rank()),
                           to_bytes({own.predictions, own.targets, own.row_ids, torch::tensor({own.seen})}));
    return own;
  }
  std::vector<eval::BufferedOutputs> parts{own};
  for (int r = 1; r < world_size(); ++r) {
    const auto t = from_bytes(communicator_->fetch(key + std::to_string(r), timeout_));
    parts.push_back({t.at(0), t.at(1), t.at(2), own.epoch, t.at(3).item<int64_t>()});
  }
  return eval::merge_samples(parts, buffer.capacity(), seed);
}

std::vector<nlohmann::json> RankGroup::gather_to_writer(const std::string& key, const nlohmann::json& value) {
  if (!distributed() || !is_writer()) {
    if (distributed()) communicator_->publish(key + "/" + std::to_string(rank()), value.dump());
    return {value};
  }
  std::vector<nlohmann::json> all{value};
  for (int r = 1; r < world_size(); ++r) {
    all.push_back(nlohmann::json::parse(communicator_->fetch(key + "/" + std::to_string(r), timeout_)));
  }
  return all;
}

std::string RankGroup::parameter_checksum(torch::nn::Module& module) {
  uint64_t hash = 1469598103934665603ULL;
  for (const auto& p : module.parameters()) {
    const auto cpu = p.detach().to(torch::kCPU).contiguous();
    const auto* bytes = static_cast<const unsigned char*>(cpu.data_ptr());
    for (size_t i = 0; i < cpu.nbytes(); ++i) hash = (hash ^ bytes[i]) * 1099511628211ULL;
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

double RankGroup::take_collective_seconds() { return std::exchange(collective_seconds_, 0.0); }

}  // namespace safetrain::train
