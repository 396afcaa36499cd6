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

  // Threads in all (1: the caller alone): torch's setting now, at most `at_most`; the pool follows it. A
  // pool thread that is never used still costs (16 threads put ~6 MB more on a 20 MB Parquet load than 3).
  int refresh(int at_most = 64);
  int threads() const { return threads_; }
  // work(item, slot) for every item < count, each taken by the next free thread; `slot` < threads() names
  // that thread (for per-thread scratch). The exception of the lowest failing item is rethrown after every
  // taken item ended, so a failure is reported as a serial run would report it; no item is taken after one.
  void each(size_t count, const std::function<void(size_t item, size_t slot)>& work);

 private:
  std::unique_ptr<c10::ThreadPool> helpers_;  // made when first needed
  int threads_ = 1;
};

}  // namespace safetrain::data
