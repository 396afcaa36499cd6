#include "safetrain/common/output_status.hpp"

#include <mutex>

namespace safetrain {
namespace {

std::mutex g_mutex;
bool g_failed = false;
std::string g_first;

}  // namespace

void note_output_write_failure(const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_failed) g_first = message;
  g_failed = true;
}

bool output_write_failed() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_failed;
}

std::string first_output_write_failure() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_first;
}

void reset_output_write_failures() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_failed = false;
  g_first.clear();
}

}  // namespace safetrain
