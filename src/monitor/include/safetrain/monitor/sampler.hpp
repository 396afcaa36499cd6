#pragma once
// The monitor's sampling side: reads the memory figures into a Sample on its own clock, keeps the last
// `capacity` samples in a fixed ring (its memory is bounded: capacity x sizeof(Sample) plus event strings),
// and runs the thread that asks for a sample every interval. The ring is not locked here: MemoryMonitor
// serialises push/recent under its own mutex; the thread's start/stop flag has its own.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "safetrain/monitor/sample.hpp"

namespace safetrain::monitor {

class Sampler {
 public:
  explicit Sampler(int64_t ring_capacity);
  ~Sampler();  // stops and joins
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Calls `tick` now and then every interval_ms on a thread of its own until stop(); a second start is a no-op.
  void start(int64_t interval_ms, std::function<void()> tick);
  // Joins the thread; false when it was not running.
  bool stop();

  // The figures now, timed on this sampler's clock; phase and epoch are the caller's to set.
  Sample read(const std::string& event) const;
  // A resumed run's clock continues from its memory.csv's last time.
  void continue_clock_from(double t_s) { start_time_ -= t_s; }

  void push(const Sample& sample);
  std::vector<Sample> recent() const;  // oldest first
  int64_t taken() const { return taken_; }
  int64_t capacity() const { return capacity_; }
  int64_t ring_bytes() const { return capacity_ * static_cast<int64_t>(sizeof(Sample)); }

 private:
  void run(int64_t interval_ms, const std::function<void()>& tick);

  int64_t capacity_;
  std::vector<Sample> ring_;
  size_t next_ = 0;
  int64_t taken_ = 0;
  double start_time_ = 0;
  std::mutex running_mutex_;
  std::condition_variable wake_;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace safetrain::monitor
