#include "safetrain/monitor/sampler.hpp"

#include <chrono>

#include "safetrain/common/units.hpp"
#include "safetrain/monitor/nvml.hpp"
#include "safetrain/monitor/process_memory.hpp"

namespace safetrain::monitor {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Sampler::Sampler(int64_t ring_capacity) : capacity_(ring_capacity), start_time_(now_s()) {
  ring_.reserve(static_cast<size_t>(capacity_));
}

Sampler::~Sampler() { stop(); }

void Sampler::start(int64_t interval_ms, std::function<void()> tick) {
  std::lock_guard<std::mutex> lock(running_mutex_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this, interval_ms, tick = std::move(tick)] { run(interval_ms, tick); });
}

bool Sampler::stop() {
  {
    std::lock_guard<std::mutex> lock(running_mutex_);
    if (!running_) return false;
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  return true;
}

void Sampler::run(int64_t interval_ms, const std::function<void()>& tick) {
  std::unique_lock<std::mutex> lock(running_mutex_);
  while (running_) {
    lock.unlock();
    tick();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(interval_ms), [this] { return !running_; });
  }
}

Sample Sampler::read(const std::string& event) const {
  Sample s;
  s.t_s = now_s() - start_time_;
  const auto resident = resident_memory();
  s.rss_mb = bytes_to_mb(resident.total);
  s.rss_anon_mb = bytes_to_mb(resident.anon);
  s.rss_file_mb = bytes_to_mb(resident.file);
  s.peak_rss_mb = bytes_to_mb(peak_rss_bytes());
  s.available_mb = bytes_to_mb(mem_available_bytes());
  const auto device = cuda_memory(0);
  s.cuda_allocated_mb = bytes_to_mb(device.allocated);
  s.cuda_reserved_mb = bytes_to_mb(device.reserved);
  const auto& nvml = Nvml::instance();
  if (nvml.available()) {
    const auto gpus = nvml.gpus();
    if (!gpus.empty()) {
      s.nvml_used_mb = bytes_to_mb(gpus.front().used_bytes);
      s.nvml_total_mb = bytes_to_mb(gpus.front().total_bytes);
    }
  }
  s.event = event;
  return s;
}

void Sampler::push(const Sample& sample) {
  if (static_cast<int64_t>(ring_.size()) < capacity_) ring_.push_back(sample);
  else ring_[next_] = sample;
  next_ = (next_ + 1) % static_cast<size_t>(capacity_);
  ++taken_;
}

std::vector<Sample> Sampler::recent() const {
  std::vector<Sample> ordered;
  const size_t n = ring_.size();
  const size_t start = n < static_cast<size_t>(capacity_) ? 0 : next_;
  for (size_t i = 0; i < n; ++i) ordered.push_back(ring_[(start + i) % n]);
  return ordered;
}

}  // namespace safetrain::monitor
