#pragma once
// Peak resident memory of this process above a starting point, from /proc/self/status: memory bounds are
// tested in bytes, not timed.
#include <fstream>
#include <string>

namespace safetrain::testing_support {

// A /proc/self/status figure in kB (VmRSS:, VmHWM:), -1 when absent.
inline long status_kb(const char* key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  }
  return -1;
}

// Made at the start of what is measured: writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
class ResidentPeak {
 public:
  ResidentPeak() {
    std::ofstream("/proc/self/clear_refs") << "5";
    start_kb_ = status_kb("VmRSS:");
  }
  bool was_reset() const { return status_kb("VmHWM:") <= start_kb_ + 256; }  // false: this kernel cannot
  long above_start_kb() const { return status_kb("VmHWM:") - start_kb_; }

 private:
  long start_kb_ = 0;
};

}  // namespace safetrain::testing_support
