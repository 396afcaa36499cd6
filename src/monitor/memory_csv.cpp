#include "safetrain/monitor/memory_csv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"

namespace safetrain::monitor {
namespace {

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

MemoryCsv::MemoryCsv(const std::filesystem::path& path) {
  if (!path.empty()) open(path);
}

void MemoryCsv::open(const std::filesystem::path& path) {
  const bool append = std::filesystem::exists(path);  // a resumed run continues its file
  try {
    file_ = std::make_unique<CheckedFile>(path, append ? CheckedFile::Mode::kAppend : CheckedFile::Mode::kTruncate);
  } catch (const IoError& e) {
    log::error("memory.csv: ", e.what(), "; memory samples are not written");
    return;
  }
  if (!append) {
    pending_ = std::string(kMemoryCsvHeader) + "\n";
    flush();
  } else {
    // A resumed run's clock continues the file's: memory.png must not draw a line back to t = 0.
    resumed_at_s_ = last_sample_time(path);
  }
}

void MemoryCsv::append(const Sample& sample, int64_t samples_taken) {
  if (!file_) return;
  char text[160];
  std::snprintf(text, sizeof text, "%.3f,%.1f", sample.t_s, sample.rss_mb);
  pending_ += text;
  append_optional(pending_, sample.rss_anon_mb);
  append_optional(pending_, sample.rss_file_mb);
  std::snprintf(text, sizeof text, ",%.1f,%.1f", sample.peak_rss_mb, sample.available_mb);
  pending_ += text;
  append_optional(pending_, sample.cuda_allocated_mb);
  append_optional(pending_, sample.cuda_reserved_mb);
  append_optional(pending_, sample.nvml_used_mb);
  append_optional(pending_, sample.nvml_total_mb);
  std::snprintf(text, sizeof text, ",%s,%lld,", phase_name(sample.phase), static_cast<long long>(sample.epoch));
  pending_ += text;
  pending_ += sample.event + "\n";
  if (samples_taken % 5 == 0 || !sample.event.empty()) flush();
}

void MemoryCsv::flush() {
  if (!file_ || pending_.empty()) return;
  try {
    file_->write(pending_);
  } catch (const IoError& e) {
    log::error("memory.csv: ", e.what(), "; memory samples are no longer written");
    file_.reset();
  }
  pending_.clear();
}

}  // namespace safetrain::monitor
