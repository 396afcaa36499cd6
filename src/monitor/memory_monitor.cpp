// The facade: each call locks once and hands the work to the parts (see memory_monitor.hpp).
#include "safetrain/monitor/memory_monitor.hpp"

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/units.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/monitor/trim.hpp"

namespace safetrain::monitor {

MemoryMonitor::MemoryMonitor(MonitorOptions options)
    : options_(std::move(options)),
      sampler_(options_.ring_capacity),
      csv_(options_.csv_path),
      alarms_(options_),
      report_(options_),
      trim_hook_(release_cached_memory) {
  sampler_.continue_clock_from(csv_.resumed_at_s());
  describe_device(describe_cuda_device(0));
}

MemoryMonitor::~MemoryMonitor() { stop(); }

void MemoryMonitor::describe_device(const DeviceDescription& device) {
  const auto budget = device_memory_budget(device, read_host_memory());
  const std::string note = shared_memory_note(device);
  if (!note.empty()) log::info("memory: ", note);
  std::lock_guard<std::mutex> lock(mutex_);
  alarms_.set_device_shares_host_memory(budget.shared_with_host);
  report_.set_device(device.cuda ? budget.source : "", budget.shared_with_host);
}

void MemoryMonitor::start() { sampler_.start(options_.interval_ms, [this] { sample_now(); }); }

void MemoryMonitor::stop() {
  if (!sampler_.stop()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  csv_.flush();
}

void MemoryMonitor::record(Sample sample) {
  ledger_.stamp(sample);
  sampler_.push(sample);
  ledger_.on_sample(sample);
  csv_.append(sample, sampler_.taken());
}

void MemoryMonitor::sample_now(const std::string& event) {
  const Sample sample = sampler_.read(event);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    record(sample);
  }
  if (event.empty()) check_thresholds(sample);
}

// Called with mutex_ held. The message goes to the log and the report; memory.csv gets a row with the
// event "warning" (or "alarm" when the run is asked to stop) so plots can mark it in time.
void MemoryMonitor::warn(const std::string& message) {
  alarms_.add_warning(message);
  log::warn("memory: ", message);
  record(sampler_.read(alarms_.stop_requested() ? "alarm" : "warning"));
}

// A crossed threshold trims (outside the lock: the hook may take a while), samples again and lets the alarm
// policy judge the sample after the trim.
void MemoryMonitor::check_thresholds(const Sample& sample) {
  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!alarms_.needs_trim(sample)) return;
    hook = trim_hook_;
  }
  if (hook) hook();
  const Sample again = sampler_.read("trim");
  std::lock_guard<std::mutex> lock(mutex_);
  record(again);
  for (const auto& message : alarms_.judge_after_trim(sample, again)) warn(message);
}

void MemoryMonitor::enter(Phase phase) {
  const double rss = bytes_to_mb(current_rss_bytes());
  const double hwm = bytes_to_mb(peak_rss_bytes());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ledger_.enter(phase, rss, hwm);
  }
  sample_now(std::string("enter ") + phase_name(phase));
}

void MemoryMonitor::exit(Phase phase) {
  const double rss = bytes_to_mb(current_rss_bytes());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ledger_.exit(phase, rss, bytes_to_mb(peak_rss_bytes()));
  }
  sample_now(std::string("exit ") + phase_name(phase));
}

void MemoryMonitor::end_epoch(int64_t epoch) {
  const auto device = cuda_memory(0);
  const auto resident = resident_memory();
  record_epoch_end(epoch, bytes_to_mb(resident.anon >= 0 ? resident.anon : resident.total), bytes_to_mb(device.allocated));
  sample_now("epoch end");
}

void MemoryMonitor::record_epoch_end(int64_t epoch, double host_mb, double device_mb) {
  std::lock_guard<std::mutex> lock(mutex_);
  ledger_.set_epoch(epoch);
  const auto growth = ledger_.take_epoch_growth();
  for (const auto& message : alarms_.observe_epoch_end(epoch, host_mb, device_mb, growth)) warn(message);
}

void MemoryMonitor::set_known_bytes(const std::string& part, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  report_.set_known_bytes(part, bytes);
}
void MemoryMonitor::set_forecast(std::map<std::string, double> above_runtime_mb) {
  std::lock_guard<std::mutex> lock(mutex_);
  report_.set_forecast(std::move(above_runtime_mb));
}
void MemoryMonitor::set_trim_hook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  trim_hook_ = std::move(hook);
}

bool MemoryMonitor::stop_requested() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return alarms_.stop_requested();
}
std::string MemoryMonitor::stop_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return alarms_.stop_reason();
}
std::vector<std::string> MemoryMonitor::warnings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return alarms_.warnings();
}
std::vector<Sample> MemoryMonitor::recent_samples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sampler_.recent();
}
double MemoryMonitor::growth_mb_per_epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return alarms_.host_slope();
}
double MemoryMonitor::device_growth_mb_per_epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return alarms_.device_slope();
}
int64_t MemoryMonitor::ring_bytes() const { return sampler_.ring_bytes(); }

nlohmann::json MemoryMonitor::breakdown() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return report_.breakdown(ledger_);
}
nlohmann::json MemoryMonitor::report() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return report_.build(ledger_, alarms_, sampler_);
}
void MemoryMonitor::write_report(const std::filesystem::path& path) const {
  write_file_atomically(path, report().dump(2) + "\n");
}
std::string MemoryMonitor::verdict_line() const { return MemoryReport::verdict_line(report()); }

}  // namespace safetrain::monitor
