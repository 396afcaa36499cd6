#pragma once
// SIGINT/SIGTERM handling for clean stops: the first signal sets a flag that
// long work checks between steps, row batches and passes (and says so at
// once on stderr); a second one exits at once.
#include <csignal>
#include <stdexcept>
#include <string>

namespace safetrain {

class StopSignals {
 public:
  StopSignals();   // installs the handlers
  ~StopSignals();  // restores the previous ones
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
      : std::runtime_error("stopped by " + std::string(signal == SIGTERM ? "SIGTERM" : "SIGINT") + " " + where),
        signal_(signal) {}
  int signal_number() const { return signal_; }

 private:
  int signal_;
};

// Between units of setup work (row batches, pruner passes): throws StopRequested naming `where` after a signal.
void throw_if_stop_requested(const char* where);

}  // namespace safetrain
