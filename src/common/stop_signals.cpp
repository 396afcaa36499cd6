#include "safetrain/common/stop_signals.hpp"

#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <iterator>

namespace safetrain {
namespace {

// The signals that ask for a clean stop (SIGHUP: a closed terminal or ssh session; SIGUSR1: a
// scheduler's warning before its time limit, e.g. SLURM's --signal), and the one ignored so that a
// write past `ulimit -f` fails with a named error instead of killing the process.
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
constexpr int kIgnoredSignals[] = {SIGXFSZ};

std::atomic<int> g_signal{0};
std::atomic<int64_t> g_first_ns{0};
struct sigaction g_previous[std::size(kStopSignals) + std::size(kIgnoredSignals)] {};

int64_t monotonic_ns() {
  struct timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

void say(const char* text, size_t size) { [[maybe_unused]] auto written = write(STDERR_FILENO, text, size); }

// Only async-signal-safe calls here.
extern "C" void on_stop_signal(int signal) {
  int expected = 0;
  if (g_signal.compare_exchange_strong(expected, signal)) {
    g_first_ns.store(monotonic_ns());
    // Said at once: the stop itself comes at the next step, batch or pass boundary.
    static const char notice[] =
        "\nsafetrain: stopping after the current step or block (a signal 2 s or more from now exits at once)\n";
    say(notice, sizeof(notice) - 1);
    return;
  }
  static_assert(kSignalSameRequestSeconds == 2, "the notices above and below say 2 s");
  if (monotonic_ns() - g_first_ns.load() < kSignalSameRequestSeconds * 1000000000LL) {
    // GNU timeout signals the child, then its group; a terminal's Ctrl-C reaches every process of the
    // group: signals in a burst are one request, not an insistence.
    static const char same[] = "safetrain: another signal within 2 s of the first: the same stop request\n";
    say(same, sizeof(same) - 1);
    return;
  }
  static const char message[] = "\nsafetrain: another signal after the stop began, exiting now without cleanup\n";
  say(message, sizeof(message) - 1);
  _exit(128 + signal);
}

}  // namespace

StopSignals::StopSignals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  size_t i = 0;
  for (const int signal : kStopSignals) sigaction(signal, &action, &g_previous[i++]);
  action.sa_handler = SIG_IGN;
  for (const int signal : kIgnoredSignals) sigaction(signal, &action, &g_previous[i++]);
}

StopSignals::~StopSignals() {
  // A process stopping on a signal is on its way out: a late signal of the same burst must not kill it
  // with the default action between here and exit.
  if (requested()) return;
  size_t i = 0;
  for (const int signal : kStopSignals) sigaction(signal, &g_previous[i++], nullptr);
  for (const int signal : kIgnoredSignals) sigaction(signal, &g_previous[i++], nullptr);
}

bool StopSignals::requested() { return g_signal.load() != 0; }
int StopSignals::signal_number() { return g_signal.load(); }
const char* StopSignals::signal_name() { return stop_signal_name(g_signal.load()); }
void StopSignals::reset() { g_signal.store(0); }
void StopSignals::adopt(int signal) {
  int expected = 0;
  if (g_signal.compare_exchange_strong(expected, signal)) g_first_ns.store(monotonic_ns());
}

const char* stop_signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGUSR1: return "SIGUSR1";
    default: return "none";
  }
}

void throw_if_stop_requested(const char* where) {
  if (const int signal = g_signal.load()) throw StopRequested(signal, where);
}

}  // namespace safetrain
