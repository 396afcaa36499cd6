#pragma once
// Bytes <-> megabytes, declared once: every report, log line and option in MB uses these.
#include <cstdint>

namespace safetrain {

inline constexpr double kBytesPerMb = 1024.0 * 1024.0;

// Negative byte counts mean "unknown" (e.g. no /proc) and stay negative.
inline constexpr double bytes_to_mb(int64_t bytes) {
  return bytes < 0 ? -1.0 : static_cast<double>(bytes) / kBytesPerMb;
}
inline constexpr int64_t mb_to_bytes(double mb) { return static_cast<int64_t>(mb * kBytesPerMb); }

}  // namespace safetrain
