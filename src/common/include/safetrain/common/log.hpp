#pragma once
// Minimal thread-safe logger: one line per message to stderr, prefixed with
// the elapsed time and level, so logs from the monitor thread never interleave.
#include <sstream>
#include <string>

namespace safetrain::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level);
Level level();
void write(Level level, const std::string& message);
// Text put before every message, e.g. "[rank 1] " in a data-parallel run; empty by default.
void set_prefix(const std::string& prefix);

template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

template <typename... Args> void debug(const Args&... a) { if (level() <= Level::kDebug) write(Level::kDebug, concat(a...)); }
template <typename... Args> void info(const Args&... a) { if (level() <= Level::kInfo) write(Level::kInfo, concat(a...)); }
template <typename... Args> void warn(const Args&... a) { write(Level::kWarn, concat(a...)); }
template <typename... Args> void error(const Args&... a) { write(Level::kError, concat(a...)); }

}  // namespace safetrain::log
