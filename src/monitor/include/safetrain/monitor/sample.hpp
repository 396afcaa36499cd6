#pragma once
// One reading of the process's, the system's and the device's memory, as the monitor keeps it in its ring and
// writes it to memory.csv.
#include <cstdint>
#include <string>

#include "safetrain/monitor/phase.hpp"

namespace safetrain::monitor {

struct Sample {
  double t_s = 0, rss_mb = 0, peak_rss_mb = 0, available_mb = 0;
  double rss_anon_mb = -1, rss_file_mb = -1;  // the judged part (anonymous) and the reclaimable part
  double cuda_allocated_mb = -1, cuda_reserved_mb = -1, nvml_used_mb = -1, nvml_total_mb = -1;
  Phase phase = Phase::idle;
  int64_t epoch = 0;
  std::string event;
};

inline constexpr const char* kMemoryCsvHeader =
    "t_s,rss_mb,rss_anon_mb,rss_file_mb,peak_rss_mb,available_mb,cuda_allocated_mb,cuda_reserved_mb,nvml_used_mb,nvml_total_mb,phase,epoch,event";

// What the RSS thresholds and the leak detector judge: anonymous memory. File-backed pages (LibTorch's code, a
// memory-mapped data cache) are the kernel's to reclaim; counting them would call a mapped table a leak.
inline double judged_rss_mb(const Sample& s) { return s.rss_anon_mb >= 0 ? s.rss_anon_mb : s.rss_mb; }

}  // namespace safetrain::monitor
