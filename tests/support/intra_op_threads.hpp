#pragma once
// Sets LibTorch's intra-op thread count (the table readers' threads) for one scope, then restores it.
#include <ATen/Parallel.h>

namespace safetrain::testing_support {

class IntraOpThreads {
 public:
  explicit IntraOpThreads(int threads) : before_(at::get_num_threads()) { at::set_num_threads(threads); }
  ~IntraOpThreads() { at::set_num_threads(before_); }
  IntraOpThreads(const IntraOpThreads&) = delete;
  IntraOpThreads& operator=(const IntraOpThreads&) = delete;

 private:
  int before_;
};

}  // namespace safetrain::testing_support
