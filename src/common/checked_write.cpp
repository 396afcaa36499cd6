#include "safetrain/common/checked_write.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "safetrain/common/error.hpp"
#include "safetrain/common/output_status.hpp"

namespace safetrain {
namespace {

std::mutex g_fault_mutex;
std::optional<WriteFault> g_fault;
int64_t g_fault_written = 0;

// How many of `wanted` bytes the injected fault lets through to `file`; sets `error` once none may.
size_t allowed_by_fault(const std::filesystem::path& file, size_t wanted, int& error) {
  std::lock_guard<std::mutex> lock(g_fault_mutex);
  if (!g_fault || file.string().find(g_fault->path_contains) == std::string::npos) return wanted;
  const int64_t left = g_fault->after_bytes - g_fault_written;
  if (left <= 0) {
    error = g_fault->error_number;
    return 0;
  }
  const size_t granted = std::min<size_t>(wanted, static_cast<size_t>(left));
  g_fault_written += static_cast<int64_t>(granted);
  return granted;
}

}  // namespace

void inject_write_fault(std::optional<WriteFault> fault) {
  std::lock_guard<std::mutex> lock(g_fault_mutex);
  g_fault = std::move(fault);
  g_fault_written = 0;
}

double free_megabytes(const std::filesystem::path& path) {
  std::filesystem::path probe = path;
  std::error_code ec;
  while (!probe.empty() && !std::filesystem::exists(probe, ec)) probe = probe.parent_path();
  struct statvfs info {};
  if (::statvfs(probe.empty() ? "." : probe.c_str(), &info) != 0) return -1.0;
  return static_cast<double>(info.f_bavail) * static_cast<double>(info.f_frsize) / (1024.0 * 1024.0);
}

void throw_write_error(const std::filesystem::path& file, int error_number, const std::string& action) {
  if (error_number == ENOSPC || error_number == EDQUOT) {
    char free_text[32];
    std::snprintf(free_text, sizeof free_text, "%.1f", free_megabytes(file));
    const std::string message = "disk full at " + file.string() + " (" + free_text + " MB free" +
                                (error_number == EDQUOT ? ", quota exceeded)" : ")");
    note_output_write_failure(message);
    throw DiskFullError(message);
  }
  const std::string message = action + " " + file.string() + ": " + std::strerror(error_number);
  note_output_write_failure(message);
  throw IoError(message);
}

void write_all(int fd, const char* data, size_t size, const std::filesystem::path& file) {
  size_t done = 0;
  while (done < size) {
    int injected = 0;
    const size_t chunk = allowed_by_fault(file, size - done, injected);
    if (injected != 0) throw_write_error(file, injected);
    const ssize_t written = ::write(fd, data + done, chunk);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_write_error(file, errno);
    }
    // write(2) returning 0 for a non-empty buffer means no progress is possible.
    if (written == 0) throw_write_error(file, EIO);
    done += static_cast<size_t>(written);
  }
}

CheckedFile::CheckedFile(const std::filesystem::path& file, Mode mode) : file_(file) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode == Mode::kAppend ? O_APPEND : O_TRUNC);
  fd_ = ::open(file.c_str(), flags, 0644);
  if (fd_ < 0) throw_write_error(file, errno, "cannot open for writing");
}

CheckedFile::~CheckedFile() {
  if (fd_ >= 0) ::close(fd_);
}

void CheckedFile::write(const std::string& bytes) { write(bytes.data(), bytes.size()); }

void CheckedFile::write(const char* data, size_t size) {
  if (fd_ < 0) throw_write_error(file_, EBADF);
  write_all(fd_, data, size, file_);
}

void CheckedFile::sync() {
  if (fd_ >= 0 && ::fsync(fd_) != 0) throw_write_error(file_, errno, "cannot sync");
}

void CheckedFile::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  // Linux closes the descriptor even when close(2) fails; EINTR must not be retried.
  if (::close(fd) != 0 && errno != EINTR) throw_write_error(file_, errno, "cannot close");
}

}  // namespace safetrain
