#include "safetrain/monitor/memory_monitor.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/monitor/nvml.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/common/units.hpp"

namespace safetrain::monitor {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// What the RSS thresholds and the leak detector judge: anonymous memory. File-backed pages (LibTorch's code, a
// memory-mapped data cache) are the kernel's to reclaim; counting them would call a mapped table a leak.
double judged_rss_mb(const Sample& s) { return s.rss_anon_mb >= 0 ? s.rss_anon_mb : s.rss_mb; }

void append_optional(std::string& out, double v) {
  char text[32];
  if (v >= 0) std::snprintf(text, sizeof text, ",%.1f", v);
  else std::snprintf(text, sizeof text, ",");
  out += text;
}

// The clock of the last sample in an existing memory.csv (its last line's first cell), 0 when there is none.
double last_sample_time(const std::filesystem::path& csv) {
  std::ifstream in(csv, std::ios::binary | std::ios::ate);
  if (!in) return 0;
  const std::streamoff size = in.tellg();
  const std::streamoff tail = std::min<std::streamoff>(size, 4096);
  std::string text(static_cast<size_t>(tail), '\0');
  in.seekg(size - tail);
  in.read(text.data(), tail);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto line = text.substr(text.find_last_of('\n') == std::string::npos ? 0 : text.find_last_of('\n') + 1);
  char* end = nullptr;
  const double t = std::strtod(line.c_str(), &end);
  return end != line.c_str() && std::isfinite(t) && t > 0 ? t : 0;
}

}  // namespace

MemoryMonitor::MemoryMonitor(MonitorOptions options)
    : options_(std::move(options)),
      host_detector_({options_.warmup_epochs, options_.window_epochs, options_.leak_mb_per_epoch}, "host"),
      device_detector_({options_.warmup_epochs, options_.window_epochs, options_.leak_mb_per_epoch}, "device") {
  ring_.reserve(static_cast<size_t>(options_.ring_capacity));
  start_time_ = now_s();
  trim_hook_ = release_cached_memory;
  if (!options_.csv_path.empty()) open_csv();
  describe_device(describe_cuda_device(0));
}

void MemoryMonitor::open_csv() {
  const bool append = std::filesystem::exists(options_.csv_path);  // a resumed run continues its file
  try {
    csv_ = std::make_unique<CheckedFile>(options_.csv_path, append ? CheckedFile::Mode::kAppend
                                                                   : CheckedFile::Mode::kTruncate);
  } catch (const IoError& e) {
    log::error("memory.csv: ", e.what(), "; memory samples are not written");
    return;
  }
  if (!append) {
    csv_pending_ = std::string(kMemoryCsvHeader) + "\n";
    flush_csv();
  } else {
    // A resumed run's clock continues the file's: memory.png must not draw a line back to t = 0.
    start_time_ -= last_sample_time(options_.csv_path);
  }
}

void MemoryMonitor::flush_csv() {
  if (!csv_ || csv_pending_.empty()) return;
  try {
    csv_->write(csv_pending_);
  } catch (const IoError& e) {
    log::error("memory.csv: ", e.what(), "; memory samples are no longer written");
    csv_.reset();
  }
  csv_pending_.clear();
}

void MemoryMonitor::describe_device(const DeviceDescription& device) {
  const auto budget = device_memory_budget(device, read_host_memory());
  const std::string note = shared_memory_note(device);
  if (!note.empty()) log::info("memory: ", note);
  std::lock_guard<std::mutex> lock(mutex_);
  device_shares_host_memory_ = budget.shared_with_host;
  device_memory_source_ = device.cuda ? budget.source : "";
}

MemoryMonitor::~MemoryMonitor() { stop(); }

void MemoryMonitor::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void MemoryMonitor::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  flush_csv();
}

void MemoryMonitor::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (running_) {
    lock.unlock();
    sample_now();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(options_.interval_ms), [this] { return !running_; });
  }
}

Sample MemoryMonitor::take_sample(const std::string& event) {
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

void MemoryMonitor::push(const Sample& sample) {
  if (static_cast<int64_t>(ring_.size()) < options_.ring_capacity) ring_.push_back(sample);
  else ring_[ring_next_] = sample;
  ring_next_ = (ring_next_ + 1) % static_cast<size_t>(options_.ring_capacity);
  ++samples_taken_;
  if (baseline_mb_ < 0) baseline_mb_ = sample.rss_mb;
  note_peak(sample.peak_rss_mb, sample.phase);
  phase_peaks_.on_sample(sample.phase, sample.rss_mb);
  peak_device_mb_ = std::max(peak_device_mb_, sample.cuda_allocated_mb);
  if (!csv_) return;
  char text[160];
  std::snprintf(text, sizeof text, "%.3f,%.1f", sample.t_s, sample.rss_mb);
  csv_pending_ += text;
  append_optional(csv_pending_, sample.rss_anon_mb);
  append_optional(csv_pending_, sample.rss_file_mb);
  std::snprintf(text, sizeof text, ",%.1f,%.1f", sample.peak_rss_mb, sample.available_mb);
  csv_pending_ += text;
  append_optional(csv_pending_, sample.cuda_allocated_mb);
  append_optional(csv_pending_, sample.cuda_reserved_mb);
  append_optional(csv_pending_, sample.nvml_used_mb);
  append_optional(csv_pending_, sample.nvml_total_mb);
  std::snprintf(text, sizeof text, ",%s,%lld,", phase_name(sample.phase), static_cast<long long>(sample.epoch));
  csv_pending_ += text;
  csv_pending_ += sample.event + "\n";
  if (samples_taken_ % 5 == 0 || !sample.event.empty()) flush_csv();
}

void MemoryMonitor::sample_now(const std::string& event) {
  Sample sample = take_sample(event);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sample.phase = phase_;
    sample.epoch = epoch_;
    push(sample);
  }
  if (event.empty()) check_thresholds(sample);
}

// Called with mutex_ held. The message goes to the log and the report; memory.csv gets a row with the
// event "warning" (or "alarm" when the run is asked to stop) so plots can mark it in time.
void MemoryMonitor::warn(const std::string& message) {
  warnings_.push_back(message);
  log::warn("memory: ", message);
  Sample marker = take_sample(stop_requested_ ? "alarm" : "warning");
  marker.phase = phase_;
  marker.epoch = epoch_;
  push(marker);
}

void MemoryMonitor::check_thresholds(const Sample& sample) {
  const double device_mb = std::max(sample.cuda_reserved_mb, sample.nvml_used_mb);
  const bool rss_critical = options_.critical_rss_mb > 0 && judged_rss_mb(sample) > options_.critical_rss_mb;
  const bool device_critical = options_.critical_device_mb > 0 && device_mb > options_.critical_device_mb;
  const bool available_low =
      options_.min_available_mb > 0 && sample.available_mb >= 0 && sample.available_mb < options_.min_available_mb;
  const bool rss_warn = options_.warn_rss_mb > 0 && judged_rss_mb(sample) > options_.warn_rss_mb;
  const bool device_warn = options_.warn_device_mb > 0 && device_mb > options_.warn_device_mb;
  if (!rss_critical && !device_critical && !available_low && !rss_warn && !device_warn) return;

  std::function<void()> hook;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_requested_) return;
    hook = trim_hook_;
  }
  if (hook) hook();
  const Sample again = take_sample("trim");
  std::lock_guard<std::mutex> lock(mutex_);
  ++trims_;
  Sample tagged = again;
  tagged.phase = phase_;
  tagged.epoch = epoch_;
  push(tagged);
  const double device_again = std::max(again.cuda_reserved_mb, again.nvml_used_mb);
  char text[200];
  if (options_.critical_rss_mb > 0 && judged_rss_mb(again) > options_.critical_rss_mb) {
    std::snprintf(text, sizeof text, "RSS %.0f MB (anonymous) above monitor.critical_rss_mb %.0f after a trim",
                  judged_rss_mb(again), options_.critical_rss_mb);
  } else if (options_.critical_device_mb > 0 && device_again > options_.critical_device_mb) {
    std::snprintf(text, sizeof text, "device memory %.0f MB above monitor.critical_device_mb %.0f after a trim",
                  device_again, options_.critical_device_mb);
  } else if (options_.min_available_mb > 0 && again.available_mb >= 0 && again.available_mb < options_.min_available_mb) {
    std::snprintf(text, sizeof text, "system MemAvailable %.0f MB below monitor.min_available_mb %.0f after a trim%s",
                  again.available_mb, options_.min_available_mb,
                  device_shares_host_memory_ ? " (host and integrated GPU memory)" : "");
  } else {
    if (rss_warn && !warned_rss_) {
      warned_rss_ = true;
      std::snprintf(text, sizeof text, "RSS %.0f MB (anonymous) above monitor.warn_rss_mb %.0f: caches trimmed",
                    judged_rss_mb(sample), options_.warn_rss_mb);
      warn(text);
    }
    if (device_warn && !warned_device_) {
      warned_device_ = true;
      std::snprintf(text, sizeof text, "device memory %.0f MB above monitor.warn_device_mb %.0f: cache released",
                    device_mb, options_.warn_device_mb);
      warn(text);
    }
    return;
  }
  stop_requested_ = true;
  stop_reason_ = text;
  warn(std::string(text) + ": asking the trainer to stop (checkpoint saved)");
}

void MemoryMonitor::enter(Phase phase) {
  const double rss = bytes_to_mb(current_rss_bytes());
  const double hwm = bytes_to_mb(peak_rss_bytes());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    phase_peaks_.on_enter(phase, hwm);
    outer_phases_.push_back(phase_);
    phase_ = phase;
    entry_rss_[phase] = rss;
  }
  sample_now(std::string("enter ") + phase_name(phase));
}

void MemoryMonitor::exit(Phase phase) {
  const double rss = bytes_to_mb(current_rss_bytes());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const double hwm = bytes_to_mb(peak_rss_bytes());
    note_peak(hwm, phase);  // before the phase ends: a peak inside it is its own
    phase_peaks_.on_exit(phase, hwm);
    auto& totals = phases_[phase];
    const double entry = entry_rss_.count(phase) ? entry_rss_[phase] : rss;
    const double growth = rss - entry;
    ++totals.entries;
    totals.entry_mb += entry;
    totals.exit_mb += rss;
    totals.growth_mb += growth;
    totals.largest_growth_mb = totals.entries == 1 ? growth : std::max(totals.largest_growth_mb, growth);
    epoch_phase_growth_[phase_name(phase)] += growth;
    phase_ = outer_phases_.empty() ? Phase::idle : outer_phases_.back();
    if (!outer_phases_.empty()) outer_phases_.pop_back();
  }
  sample_now(std::string("exit ") + phase_name(phase));
}

void MemoryMonitor::note_peak(double peak_mb, Phase phase) {
  if (peak_mb <= peak_mb_ + 0.05) return;  // the same peak re-read
  peak_mb_ = peak_mb;
  peak_phase_ = phase;
}

void MemoryMonitor::set_known_bytes(const std::string& part, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  known_bytes_[part] = bytes;
}

void MemoryMonitor::end_epoch(int64_t epoch) {
  const auto device = cuda_memory(0);
  const auto resident = resident_memory();
  record_epoch_end(epoch, bytes_to_mb(resident.anon >= 0 ? resident.anon : resident.total), bytes_to_mb(device.allocated));
  sample_now("epoch end");
}

void MemoryMonitor::record_epoch_end(int64_t epoch, double host_mb, double device_mb) {
  std::lock_guard<std::mutex> lock(mutex_);
  epoch_ = epoch;
  epoch_end_mb_.push_back(host_mb);
  if (auto warning = host_detector_.observe(epoch, host_mb, epoch_phase_growth_)) warn(*warning);
  if (device_mb >= 0) {
    if (auto warning = device_detector_.observe(epoch, device_mb, epoch_phase_growth_)) warn(*warning);
  }
  epoch_phase_growth_.clear();
}

bool MemoryMonitor::stop_requested() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stop_requested_;
}
std::string MemoryMonitor::stop_reason() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stop_reason_;
}
std::vector<std::string> MemoryMonitor::warnings() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return warnings_;
}
std::vector<Sample> MemoryMonitor::recent_samples() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Sample> ordered;
  const size_t n = ring_.size();
  const size_t start = n < static_cast<size_t>(options_.ring_capacity) ? 0 : ring_next_;
  for (size_t i = 0; i < n; ++i) ordered.push_back(ring_[(start + i) % n]);
  return ordered;
}
double MemoryMonitor::growth_mb_per_epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return host_detector_.slope();
}
double MemoryMonitor::device_growth_mb_per_epoch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return device_detector_.slope();
}
void MemoryMonitor::set_trim_hook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  trim_hook_ = std::move(hook);
}
int64_t MemoryMonitor::ring_bytes() const {
  return options_.ring_capacity * static_cast<int64_t>(sizeof(Sample));
}

}  // namespace safetrain::monitor
