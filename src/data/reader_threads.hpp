#pragma once
// The threads a table source converts on: the caller's and a pool of helpers, as many in all as torch's
// intra-op setting (the trainer's `threads`) says. CSV pieces and Parquet column blocks run on them.
#include <cstddef>
#include <functional>
#include <memory>

namespace c10 {
class ThreadPool;
}

namespace safetrain::data {

class ReaderThreads {
 public:
  ReaderThreads();
  ~ReaderThreads();
  ReaderThreads(const ReaderThreads&) = delete;
  ReaderThreads& operator=(const ReaderThreads&) = delete;

  // Threads in all (1: the caller alone), read from torch's setting now; the pool follows it.
  int refresh();
  int threads() const { return threads_; }
  // work(item, slot) for every item < count, each taken by the next free thread of at most `at_most`;
  // `slot` < threads() names that thread (for per-thread scratch). The exception of the lowest failing item
  // is rethrown after every taken item ended, so a failure is reported as a serial run would report it; no
  // item is taken after one.
  void each(size_t count, const std::function<void(size_t item, size_t slot)>& work, size_t at_most = 64);

 private:
  std::unique_ptr<c10::ThreadPool> helpers_;  // made when first needed
  int threads_ = 1;
};

}  // namespace safetrain::data
