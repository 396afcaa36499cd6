#include "safetrain/data/loader.hpp"

#include <atomic>
#include <chrono>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/device/accelerator.hpp"

namespace safetrain::data {
namespace {
std::atomic<int> g_live_workers{0};
}

int live_loader_workers() { return g_live_workers.load(); }

Loader::Loader(SplitTensors data, LoaderOptions options) : data_(std::move(data)), options_(options) {
  if (options_.batch_size < 1) throw InputError("data.batch_size: must be at least 1, got " + std::to_string(options_.batch_size));
  if (options_.workers.prefetch_batches < 1) {
    throw InputError("data.prefetch_batches: must be at least 1, got " + std::to_string(options_.workers.prefetch_batches));
  }
  workers_ = std::max<int64_t>(0, std::min(options_.workers.num_workers, options_.workers.max_workers));
  if (options_.workers.num_workers > workers_) {
    log::warn("data.num_workers ", options_.workers.num_workers, " capped at data.max_workers ", options_.workers.max_workers);
  }
  if (!device::pinned_memory_useful()) options_.pin_memory = false;  // it only helps host-to-GPU copies
}

int64_t Loader::batches_per_epoch() const {
  const int64_t n = samples();
  if (n == 0) return 0;
  return options_.drop_last && n >= options_.batch_size ? n / options_.batch_size
                                                        : (n + options_.batch_size - 1) / options_.batch_size;
}

std::unique_ptr<EpochPass> Loader::epoch(int64_t epoch_index) const {
  torch::Tensor order;
  if (options_.shuffle) {
    auto generator = at::detail::createCPUGenerator(options_.seed * 1000003ULL + static_cast<uint64_t>(epoch_index));
    order = torch::randperm(data_.size(), generator, torch::kLong);
  } else {
    order = torch::arange(data_.size(), torch::kLong);
  }
  order = shard_order(order, options_.shard);
  auto options = options_;
  if (options.drop_last && order.size(0) >= options.batch_size) {
    order = order.narrow(0, 0, batches_per_epoch() * options.batch_size);
  }
  return std::make_unique<EpochPass>(data_, order, options, workers_);
}

EpochPass::EpochPass(const SplitTensors& data, torch::Tensor order, const LoaderOptions& options, int64_t workers)
    : data_(data), order_(std::move(order)), options_(options) {
  batches_ = (order_.size(0) + options_.batch_size - 1) / options_.batch_size;
  try {
    for (int64_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
  } catch (...) {
    stop_and_join();  // a thread that failed to start must not leave the started ones running
    throw;
  }
}

EpochPass::~EpochPass() { stop_and_join(); }

void EpochPass::stop_and_join() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  room_.notify_all();
  ready_.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

Batch EpochPass::make_batch(int64_t index) const {
  const int64_t start = index * options_.batch_size;
  const int64_t rows = std::min(options_.batch_size, order_.size(0) - start);
  const auto idx = order_.narrow(0, start, rows);
  Batch b{data_.x.index_select(0, idx), data_.y.index_select(0, idx), {}};
  if (options_.pin_memory) {
    b.x = b.x.pin_memory();
    b.y = b.y.pin_memory();
  }
  b.row_ids = data_.row_ids.index_select(0, idx);
  return b;
}

void EpochPass::work() {
  ++g_live_workers;
  while (true) {
    int64_t index = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Bounded prefetch: never build further ahead than prefetch_batches beyond what was consumed.
      room_.wait(lock, [this] { return stopping_ || next_to_build_ < consumed_ + options_.workers.prefetch_batches; });
      if (stopping_ || next_to_build_ >= batches_) break;
      index = next_to_build_++;
    }
    // A failure in a worker (e.g. out of memory) is handed to the consumer instead of terminating.
    std::optional<Batch> batch;
    std::exception_ptr failure;
    try {
      batch = make_batch(index);
    } catch (...) {
      failure = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (failure) {
        if (!failure_) failure_ = failure;
      } else {
        ready_batches_.emplace(index, std::move(*batch));
      }
    }
    ready_.notify_all();
  }
  --g_live_workers;
}

std::optional<Batch> EpochPass::next() {
  if (consumed_ >= batches_) return std::nullopt;
  if (workers_.empty()) return make_batch(consumed_++);
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [this] { return failure_ || ready_batches_.count(consumed_) > 0; });
  if (failure_) std::rethrow_exception(failure_);
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto node = ready_batches_.extract(consumed_);
  ++consumed_;
  lock.unlock();
  room_.notify_all();
  return std::move(node.mapped());
}

}  // namespace safetrain::data
