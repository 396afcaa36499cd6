#include "safetrain/common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "safetrain/common/text.hpp"

namespace safetrain::log {
namespace {
std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mutex;
std::string g_prefix;  // guarded by g_mutex
const auto g_start = std::chrono::steady_clock::now();

const char* name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "WARN";
    case Level::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void set_level(Level level) { g_level = level; }
void set_prefix(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_prefix = prefix;
}
Level level() { return g_level; }

void write(Level level, const std::string& message) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
  std::lock_guard<std::mutex> lock(g_mutex);
  // Messages quote column names, cells and paths from the user's files: no control character reaches the terminal.
  std::fprintf(stderr, "%s[%8.2fs %-5s] %s\n", g_prefix.c_str(), seconds, name(level),
               text::escape_control(message).c_str());
  std::fflush(stderr);
}

}  // namespace safetrain::log
