#pragma once
// Scratch bytes of a pass, counted by the code that allocates them (not RSS): the bound behind
// descriptors.max_working_mb and the "working_set_mb" figure of every pass report.
#include <algorithm>
#include <cstdint>

namespace safetrain::data::descriptors {

class WorkingSet {
 public:
  explicit WorkingSet(int64_t budget_bytes) : budget_(budget_bytes) {}
  int64_t budget() const { return budget_; }
  int64_t peak() const { return peak_; }
  int64_t current() const { return current_; }
  void add(int64_t bytes) {
    current_ += bytes;
    peak_ = std::max(peak_, current_);
  }
  void remove(int64_t bytes) { current_ -= bytes; }

 private:
  int64_t budget_;
  int64_t current_ = 0, peak_ = 0;
};

// Counts `bytes` while in scope.
class Scratch {
 public:
  Scratch(WorkingSet& set, int64_t bytes) : set_(set), bytes_(bytes) { set_.add(bytes_); }
  ~Scratch() { set_.remove(bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

 private:
  WorkingSet& set_;
  int64_t bytes_;
};

}  // namespace safetrain::data::descriptors
