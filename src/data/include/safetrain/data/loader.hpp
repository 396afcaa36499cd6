#pragma once
// Mini-batches by shuffled index gathers from one contiguous tensor. Workers
// are non-persistent: started when an epoch pass is created and joined when
// it ends (also on early exit), their count capped, at most
// `prefetch_batches` ready batches held at any time.
#include <torch/torch.h>

#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "safetrain/data/distributed_sampler.hpp"
#include "safetrain/data/prepare.hpp"

namespace safetrain::data {

struct LoaderOptions {
  int64_t batch_size = 1;    // training.batch_size
  bool shuffle = true;
  bool drop_last = false;
  WorkerOptions workers;     // data.num_workers, data.max_workers, data.prefetch_batches
  uint64_t seed = 0;         // the run's seed
  bool pin_memory = false;   // honoured only in CUDA builds
  ShardOptions shard;        // this rank's share of the rows (data-parallel runs)
};

struct Batch {
  torch::Tensor x, y, row_ids;
};

class EpochPass {
 public:
  EpochPass(const SplitTensors& data, torch::Tensor order, const LoaderOptions& options, int64_t workers);
  ~EpochPass();  // stops and joins the workers
  EpochPass(EpochPass&&) = delete;
  EpochPass& operator=(EpochPass&&) = delete;

  std::optional<Batch> next();
  double wait_seconds() const { return wait_seconds_; }

 private:
  Batch make_batch(int64_t index) const;
  void work();
  void stop_and_join();

  SplitTensors data_;  // shares the loader's tensors (no copy), so the pass may outlive its Loader
  torch::Tensor order_;
  LoaderOptions options_;
  int64_t batches_;
  int64_t consumed_ = 0;
  double wait_seconds_ = 0;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::map<int64_t, Batch> ready_batches_;
  int64_t next_to_build_ = 0;
  bool stopping_ = false;
  std::exception_ptr failure_;  // first exception thrown in a worker, rethrown by next()
  std::vector<std::thread> workers_;
};

class Loader {
 public:
  Loader(SplitTensors data, LoaderOptions options);
  int64_t batches_per_epoch() const;
  int64_t samples() const { return shard_rows(data_.size(), options_.shard); }  // this rank's rows per epoch
  int64_t effective_workers() const { return workers_; }
  // A pass over the data; shuffled from seed and epoch_index, so reproducible.
  std::unique_ptr<EpochPass> epoch(int64_t epoch_index) const;

 private:
  SplitTensors data_;
  LoaderOptions options_;
  int64_t workers_;
};

int live_loader_workers();

}  // namespace safetrain::data
