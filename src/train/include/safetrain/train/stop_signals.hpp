#pragma once
// SIGINT/SIGTERM handling for clean stops: the first signal sets a flag the
// training loop checks between steps; a second one exits at once.
namespace safetrain::train {

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
};

}  // namespace safetrain::train
