// One writer per run directory: a second lock on the same directory is refused naming the holder's
// pid; the lock goes with its holder.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/run_dir_lock.hpp"

namespace fs = std::filesystem;
using safetrain::testing_support::scratch_dir;

namespace safetrain {
namespace {

TEST(RunDirLock, ASecondWriterIsRefusedNamingTheHoldersPid) {
  const auto dir = scratch_dir("run_lock");
  auto first = std::make_unique<RunDirLock>(dir / ".writer.lock");
  try {
    RunDirLock second(dir / ".writer.lock");  // flock conflicts across open file descriptions, even in one process
    FAIL() << "the second lock was granted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(dir.string() + ": another process (pid " + std::to_string(::getpid()) + ")"),
              std::string::npos)
        << message;
  }
  first.reset();
  EXPECT_NO_THROW(RunDirLock again(dir / ".writer.lock"));  // released with its holder
}

TEST(RunDirLock, AStaleLockFileFromADeadProcessDoesNotBlock) {
  const auto dir = scratch_dir("run_lock_stale");
  std::ofstream(dir / ".writer.lock") << "999999\n";  // written by a process that no longer runs
  EXPECT_NO_THROW(RunDirLock lock(dir / ".writer.lock"));
}

}  // namespace
}  // namespace safetrain
