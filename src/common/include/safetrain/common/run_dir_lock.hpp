#pragma once
// One writer per run directory: an advisory flock(2) on RUN_DIR/.writer.lock, held for the writer's
// life and released by the kernel when the process ends (also on SIGKILL), so a stale lock never
// blocks a later --resume. The holder writes its pid into the file for the refusal message.
#include <filesystem>

namespace safetrain {

class RunDirLock {
 public:
  // Takes the lock on `lock_file` (created when missing); InputError naming the run directory and the
  // holder's pid when another process holds it.
  explicit RunDirLock(const std::filesystem::path& lock_file);
  ~RunDirLock();
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace safetrain
