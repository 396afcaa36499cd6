#include "safetrain/common/stop_signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace safetrain {
namespace {

std::atomic<int> g_signal{0};
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

extern "C" void on_stop_signal(int signal) {
  int expected = 0;
  if (g_signal.compare_exchange_strong(expected, signal)) {
    // Said at once: the stop itself comes at the next step, batch or pass boundary.
    static const char notice[] = "\nsafetrain: stopping after the current step or block (again to exit at once)\n";
    [[maybe_unused]] auto noticed = write(STDERR_FILENO, notice, sizeof(notice) - 1);
  } else {
    // Second signal: the user insists. Only async-signal-safe calls here.
    static const char message[] = "\nsafetrain: second signal, exiting now without cleanup\n";
    [[maybe_unused]] auto written = write(STDERR_FILENO, message, sizeof(message) - 1);
    _exit(128 + signal);
  }
}

}  // namespace

StopSignals::StopSignals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

bool StopSignals::requested() { return g_signal.load() != 0; }
int StopSignals::signal_number() { return g_signal.load(); }
const char* StopSignals::signal_name() {
  switch (g_signal.load()) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "none";
  }
}
void StopSignals::reset() { g_signal.store(0); }
void StopSignals::adopt(int signal) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signal);
}

void throw_if_stop_requested(const char* where) {
  if (const int signal = g_signal.load()) throw StopRequested(signal, where);
}

}  // namespace safetrain
