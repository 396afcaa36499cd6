#include "safetrain/common/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "safetrain/common/checked_write.hpp"

namespace safetrain {
namespace {

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) throw_write_error(path, errno, "cannot open to sync");
  const int rc = ::fsync(fd);
  const int sync_error = errno;
  ::close(fd);
  if (rc != 0) throw_write_error(path, sync_error, "cannot sync");
}

void rename_checked(const std::filesystem::path& from, const std::filesystem::path& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) throw_write_error(to, errno, "cannot rename " + from.string() + " to");
}

std::filesystem::path temporary_sibling(const std::filesystem::path& target) {
  return target.parent_path() /
         (target.filename().string() + ".tmp." + std::to_string(::getpid()));
}

}  // namespace

int remove_abandoned_temporaries(const std::filesystem::path& dir) {
  int removed = 0;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    const std::string name = entry.path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (at == std::string::npos) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + at + 5, &end, 10);
    if (pid <= 0 || *end != '\0' || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      removed += std::filesystem::remove(entry.path(), ignored) ? 1 : 0;
    }
  }
  return removed;
}

void fsync_directory(const std::filesystem::path& dir) {
  fsync_path(dir.empty() ? std::filesystem::path(".") : dir, O_RDONLY | O_DIRECTORY);
}

void replace_file_atomically(const std::filesystem::path& target,
                             const std::function<void(const std::filesystem::path&)>& write_to) {
  const auto temp = temporary_sibling(target);
  try {
    write_to(temp);
    fsync_path(temp, O_RDONLY);
    rename_checked(temp, target);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
  fsync_directory(target.parent_path());
}

void write_file_atomically(const std::filesystem::path& target, const std::string& contents) {
  replace_file_atomically(target, [&](const std::filesystem::path& temp) {
    CheckedFile file(temp, CheckedFile::Mode::kTruncate);
    file.write(contents);
    file.close();  // replace_file_atomically fsyncs it before the rename
  });
}

}  // namespace safetrain
