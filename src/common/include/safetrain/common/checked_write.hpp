#pragma once
// Writes that are checked byte for byte. Every failure throws IoError naming
// the file and strerror; ENOSPC/EDQUOT throw DiskFullError ("disk full at PATH
// (N MB free)"). Every throw also marks the process-wide output-write failure
// (output_status.hpp), so a run that lost an output cannot exit 0 even where a
// caller catches the error to carry on.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace safetrain {

// Throws the error for `error_number` (an errno) met while doing `action` on `file`.
[[noreturn]] void throw_write_error(const std::filesystem::path& file, int error_number,
                                    const std::string& action = "cannot write");

// Free space (for an unprivileged user) on the file system holding `path`, in MB; -1 when unknown.
double free_megabytes(const std::filesystem::path& path);

// write(2) in a loop until every byte is written (short writes and EINTR are retried).
void write_all(int fd, const char* data, size_t size, const std::filesystem::path& file);

// An open file descriptor written through write_all; fsync and close are checked.
// The destructor closes quietly (an unchecked close only happens on an error path).
class CheckedFile {
 public:
  enum class Mode { kTruncate, kAppend };
  CheckedFile(const std::filesystem::path& file, Mode mode);
  ~CheckedFile();
  CheckedFile(const CheckedFile&) = delete;
  CheckedFile& operator=(const CheckedFile&) = delete;

  void write(const std::string& bytes);
  void write(const char* data, size_t size);
  void sync();   // fsync: on some file systems the first moment a full disk shows
  void close();  // checked close; further writes are an error
  const std::filesystem::path& path() const { return file_; }

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

// Fault injection for tests: once `after_bytes` more bytes have been written
// to a file whose path contains `path_contains`, every write(2) fails with
// `error_number` (e.g. ENOSPC, EIO). Cleared with std::nullopt.
struct WriteFault {
  int error_number = 0;
  int64_t after_bytes = 0;
  std::string path_contains;
};
void inject_write_fault(std::optional<WriteFault> fault);

}  // namespace safetrain
