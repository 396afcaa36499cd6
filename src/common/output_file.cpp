#include "safetrain/common/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"

namespace fs = std::filesystem;

namespace safetrain {
namespace {

constexpr int kMaxSymlinks = 40;  // Linux's own limit (ELOOP)

[[noreturn]] void refuse(const fs::path& requested, const std::string& why) {
  throw InputError("output " + requested.string() + ": " + why);
}

// The descriptor a path names by itself (/dev/stdout, /dev/fd/3, /proc/self/fd/3), if any.
std::optional<int> named_descriptor(const fs::path& path) {
  const std::string text = path.lexically_normal().string();
  if (text == "/dev/stdout") return 1;
  if (text == "/dev/stderr") return 2;
  const std::string prefixes[] = {"/dev/fd/", "/proc/self/fd/", "/proc/" + std::to_string(::getpid()) + "/fd/"};
  for (const auto& prefix : prefixes) {
    if (text.rfind(prefix, 0) != 0 || text.size() == prefix.size()) continue;
    const std::string digits = text.substr(prefix.size());
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 9) return std::nullopt;
    return std::stoi(digits);
  }
  return std::nullopt;
}

// Follows symlinks of the last component; stops at a path naming a descriptor (its link is /proc magic).
fs::path follow_links(const fs::path& requested, std::optional<int>& descriptor) {
  fs::path path = requested;
  for (int hops = 0;; ++hops) {
    if ((descriptor = named_descriptor(path))) return path;
    std::error_code ec;
    if (!fs::is_symlink(fs::symlink_status(path, ec))) return path;
    if (hops == kMaxSymlinks) refuse(requested, "too many levels of symbolic links");
    const fs::path target = fs::read_symlink(path, ec);
    if (ec) refuse(requested, "cannot read the symbolic link: " + ec.message());
    path = target.is_absolute() ? target : path.parent_path() / target;
  }
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// Refuses `out` when it is one of `inputs` (or a file inside an input directory).
void refuse_if_input(const fs::path& requested, const struct stat& out, const std::vector<fs::path>& inputs) {
  for (const auto& input : inputs) {
    struct stat in {};
    if (::stat(input.c_str(), &in) != 0) continue;
    if (same_file(in, out)) refuse(requested, "is the same file as the input " + input.string());
    if (!S_ISDIR(in.st_mode)) continue;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(input, ec)) {
      struct stat inner {};
      if (::stat(entry.path().c_str(), &inner) == 0 && same_file(inner, out)) {
        refuse(requested, "is the same file as the input " + entry.path().string());
      }
    }
  }
}

// A device, FIFO or inherited descriptor, written in place chunk by chunk; the first error is kept and
// rethrown after the producer returns (the producer cannot take an exception, streamed_file.hpp).
void write_in_place(const OutputTarget& target, const std::function<void(const ChunkSink&)>& produce) {
  int fd = target.descriptor;
  if (target.mode != OutputTarget::Mode::kDescriptor) {
    // No O_CREAT, no O_TRUNC: a device or FIFO is written as it is, never replaced by a file.
    fd = ::open(target.path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw_write_error(target.requested, errno, "cannot open for writing");
  }
  std::exception_ptr failure;
  produce([&](const void* data, size_t size) -> size_t {
    if (!failure) {
      try {
        write_all(fd, static_cast<const char*>(data), size, target.requested);
      } catch (...) {
        failure = std::current_exception();
      }
    }
    return size;
  });
  if (target.mode != OutputTarget::Mode::kDescriptor && ::close(fd) != 0 && errno != EINTR && !failure) {
    throw_write_error(target.requested, errno, "cannot close");
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

OutputTarget resolve_output_target(const fs::path& requested, const std::vector<fs::path>& inputs) {
  if (requested.empty()) refuse(requested, "the path is empty");
  OutputTarget target;
  target.requested = requested;
  std::optional<int> descriptor;
  target.path = follow_links(requested, descriptor);
  struct stat info {};
  const bool exists = ::stat(target.path.c_str(), &info) == 0;
  if (exists) refuse_if_input(requested, info, inputs);
  if (descriptor) {
    target.mode = OutputTarget::Mode::kDescriptor;
    target.descriptor = *descriptor;
  } else if (!exists) {
    target.mode = OutputTarget::Mode::kAtomicReplace;  // a new path
  } else if (S_ISDIR(info.st_mode)) {
    refuse(requested, "is a directory");
  } else {
    target.mode = S_ISREG(info.st_mode) ? OutputTarget::Mode::kAtomicReplace : OutputTarget::Mode::kInPlace;
  }
  return target;
}

void write_output_file(const fs::path& requested, const std::string& contents) {
  write_output_streamed(requested, [&](const ChunkSink& sink) { sink(contents.data(), contents.size()); });
}

void write_output_streamed(const fs::path& requested, const std::function<void(const ChunkSink&)>& produce) {
  const OutputTarget target = resolve_output_target(requested);
  if (target.mode == OutputTarget::Mode::kAtomicReplace) {
    write_streamed_atomically(target.path, produce);
  } else {
    write_in_place(target, produce);
  }
}

}  // namespace safetrain
