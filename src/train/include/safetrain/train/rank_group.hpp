#pragma once
// The ranks of a data-parallel run as the training session sees them. One process is a group of one in
// which every call is a no-op, so the session reads the same either way. With several ranks (src/dist
// over c10d) it agrees on stops, averages gradients in buckets, combines the split metrics exactly,
// merges the bounded output samples on rank 0 and shares what rank 0 alone decides (run directory,
// feature selection). Rank 0 is the one writer of run files.
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/config/config.hpp"
#include "safetrain/dist/communicator.hpp"
#include "safetrain/dist/gradient_buckets.hpp"
#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/streaming_metrics.hpp"
#include "safetrain/train/train_loop.hpp"

namespace safetrain::train {

// Whether this process is one rank of several: WORLD_SIZE > 1, or training.strategy: ddp with a world
// size from SLURM. A 1-rank environment is a single process.
dist::LaunchEnv launch_env_for(const config::Config& config, const dist::EnvLookup& env);

class RankGroup : public StepSync {
 public:
  RankGroup() = default;  // one process
  // Connects to the other ranks when the environment says there are any (logs are then prefixed [rank N]).
  static std::unique_ptr<RankGroup> from_environment(const config::Config& config, bool cuda);

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  int local_rank() const { return env_.local_rank; }
  bool distributed() const { return communicator_ != nullptr; }
  bool is_writer() const { return env_.rank == 0; }
  StepSync* step_sync() { return distributed() ? this : nullptr; }

  // Rank 0 computes the text, every rank returns it (the others wait up to `wait`).
  std::string share_from_writer(const std::string& key, const std::function<std::string()>& compute,
                                std::chrono::milliseconds wait);
  // Every rank's `record` (part name -> value: config, data fingerprint, parameter shapes) against rank 0's;
  // on every rank the same InputError naming the first rank and part that differ.
  void check_agreement(const nlohmann::json& record);
  // Parameters and buffers take rank 0's values (at start, after a resume, after loading the best weights).
  void broadcast_module(torch::nn::Module& module);
  // Gradient buckets over these parameters (call once the model exists).
  void attach_parameters(std::vector<torch::Tensor> parameters, double bucket_mb);

  std::optional<RunEnd> agree_on_stop(std::optional<RunEnd> local) override;
  void average_gradients() override;

  // Sums over the ranks, so every rank holds the whole pass: training loss and samples; evaluation loss,
  // samples and the streaming metrics' accumulators (exact).
  void combine(TrainPass& pass);
  void combine(EvalPass& pass, eval::StreamingMetrics& metrics);
  // Rank 0 gets one uniform sample of the buffer's cap over every rank's rows; other ranks their own.
  eval::BufferedOutputs merged_sample(const eval::OutputBuffer& buffer, const std::string& split, uint64_t seed);
  // Rank 0 gets every rank's value in rank order; other ranks get only their own.
  std::vector<nlohmann::json> gather_to_writer(const std::string& key, const nlohmann::json& value);

  // FNV-1a of every parameter's bytes: equal on all ranks when they hold the same weights.
  static std::string parameter_checksum(torch::nn::Module& module);
  // Seconds spent in the training loop's collectives since the last call.
  double take_collective_seconds();

 private:
  void sum_loss_and_samples(double& loss_sum, int64_t& samples);  // over every rank, in place

  dist::LaunchEnv env_;
  std::chrono::milliseconds timeout_{0};
  std::unique_ptr<dist::Communicator> communicator_;
  std::unique_ptr<dist::GradientBuckets> buckets_;
  double collective_seconds_ = 0;
};

}  // namespace safetrain::train
