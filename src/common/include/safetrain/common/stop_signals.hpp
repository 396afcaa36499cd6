#pragma once
// Signal handling for clean stops. SIGINT, SIGTERM, SIGHUP and SIGUSR1 ask for a clean stop: the first
// sets a flag that long work checks between steps, row batches and passes (and says so at once on
// stderr); further signals within kSignalSameRequestSeconds of it are the same request (a terminal
// or GNU timeout signals a whole process group); one after that exits at once, without cleanup.
// SIGQUIT keeps its default (quit at once with a core dump, no final outputs). SIGXFSZ is ignored,
// so a write past `ulimit -f` fails with a named error (EFBIG) instead of killing the process.
#include <csignal>
#include <stdexcept>
#include <string>

namespace safetrain {

inline constexpr int kSignalSameRequestSeconds = 2;

// "SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1"; "none" for any other.
const char* stop_signal_name(int signal);

class StopSignals {
 public:
  StopSignals();   // installs the handlers
  ~StopSignals();  // restores the previous ones (not after a stop: late signals stay one request)
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  static bool requested();
  static int signal_number();  // 0 when none arrived
  static const char* signal_name();
  static void reset();         // tests and in-process reruns (memleak_check)
  // Another rank of a data-parallel run received `signal`: this one stops as if it had (same exit code).
  static void adopt(int signal);
};

// Thrown where work stops early after a signal; guarded_main turns it into exit 128 + signal.
class StopRequested : public std::runtime_error {
 public:
  StopRequested(int signal, const std::string& where)
      : std::runtime_error("stopped by " + std::string(stop_signal_name(signal)) + " " + where),
        signal_(signal) {}
  int signal_number() const { return signal_; }

 private:
  int signal_;
};

// Between units of setup work (row batches, pruner passes): throws StopRequested naming `where` after a signal.
void throw_if_stop_requested(const char* where);

}  // namespace safetrain
