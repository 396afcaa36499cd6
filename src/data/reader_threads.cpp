#include "reader_threads.hpp"

#include <ATen/Parallel.h>
#include <c10/core/thread_pool.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <mutex>

namespace safetrain::data {
namespace {

constexpr int kMaxThreads = 16;

}  // namespace

ReaderThreads::ReaderThreads() = default;
ReaderThreads::~ReaderThreads() = default;

int ReaderThreads::refresh(int at_most) {
  threads_ = std::clamp(std::min(at::get_num_threads(), at_most), 1, kMaxThreads);
  if (threads_ > 1 && (!helpers_ || static_cast<int>(helpers_->size()) != threads_ - 1)) {
    helpers_ = std::make_unique<c10::ThreadPool>(threads_ - 1);
  }
  return threads_;
}

// Not at::parallel_for: its OpenMP threads spin at the join, and with other work on the cores the spinning took
// the CPU the reading threads needed (100k x 70 CSV at load 8 on 2 cores: 0.70 s on 2 OpenMP threads, 0.44 s on
// one; blocking waits: 0.38 s). Taking items one at a time means a thread the system deschedules holds up only
// the item it took, not a fixed share of the batch.
void ReaderThreads::each(size_t count, const std::function<void(size_t, size_t)>& work) {
  std::atomic<size_t> next{0};
  std::mutex failed_lock;
  std::exception_ptr failed;
  size_t failed_item = std::numeric_limits<size_t>::max();
  const auto run = [&](size_t slot) {
    for (size_t i = next++; i < count; i = next++) {
      try {
        work(i, slot);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failed_lock);
        if (i < failed_item) {
          failed_item = i;
          failed = std::current_exception();
        }
        next = count;
        return;
      }
    }
  };
  const size_t helpers = threads_ > 1 && count > 1 ? std::min(helpers_->size(), count - 1) : 0;
  for (size_t t = 0; t < helpers; ++t) helpers_->run([&run, t] { run(t + 1); });
  run(0);
  if (helpers > 0) helpers_->waitWorkComplete();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace safetrain::data
