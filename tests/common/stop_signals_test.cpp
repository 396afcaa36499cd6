// Signals: a burst of signals is one clean-stop request; only a signal after the stop has begun (and
// its window passed) exits at once. SIGHUP and SIGUSR1 stop cleanly; SIGXFSZ is ignored.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "safetrain/common/stop_signals.hpp"

namespace safetrain {
namespace {

// Runs `body` in a child process with the handlers installed; returns its exit status (128 + signal
// when a signal ended it).
int in_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    StopSignals signals;
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(StopSignals, SignalsInABurstAreOneRequest) {
  // GNU timeout: SIGTERM to the child, then to its group; a terminal's Ctrl-C reaches the whole group.
  EXPECT_EQ(in_child([] {
              std::raise(SIGTERM);
              std::raise(SIGTERM);
              std::raise(SIGINT);
              return StopSignals::signal_number() == SIGTERM ? 0 : 1;
            }),
            0);
}

TEST(StopSignals, ASignalAfterTheWindowExitsAtOnce) {
  EXPECT_EQ(in_child([] {
              std::raise(SIGINT);
              std::this_thread::sleep_for(std::chrono::milliseconds(kSignalSameRequestSeconds * 1000 + 200));
              std::raise(SIGINT);  // _exit(130) in the handler
              return 0;
            }),
            128 + SIGINT);
}

TEST(StopSignals, HangupAndUsr1StopCleanlyAndFileSizeIsIgnored) {
  EXPECT_EQ(in_child([] {
              std::raise(SIGXFSZ);  // default action: killed with a core dump
              std::raise(SIGHUP);
              return StopSignals::requested() ? 0 : 1;
            }),
            0);
  EXPECT_EQ(in_child([] {
              std::raise(SIGUSR1);
              return std::string(StopSignals::signal_name()) == "SIGUSR1" ? 0 : 1;
            }),
            0);
  EXPECT_STREQ(StopRequested(SIGHUP, "while loading").what(), "stopped by SIGHUP while loading");
}

}  // namespace
}  // namespace safetrain
