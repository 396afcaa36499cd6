#include "safetrain/common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace safetrain {
namespace {

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + path.string() + " to sync: " + std::strerror(errno));
  }
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) {
    throw std::runtime_error("fsync failed on " + path.string() + ": " + std::strerror(errno));
  }
}

std::filesystem::path temporary_sibling(const std::filesystem::path& target) {
  return target.parent_path() /
         (target.filename().string() + ".tmp." + std::to_string(::getpid()));
}

}  // namespace

void fsync_directory(const std::filesystem::path& dir) {
  fsync_path(dir.empty() ? std::filesystem::path(".") : dir, O_RDONLY | O_DIRECTORY);
}

void replace_file_atomically(const std::filesystem::path& target,
                             const std::function<void(const std::filesystem::path&)>& write_to) {
  const auto temp = temporary_sibling(target);
  try {
    write_to(temp);
    fsync_path(temp, O_RDONLY);
    std::filesystem::rename(temp, target);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
  fsync_directory(target.parent_path());
}

void write_file_atomically(const std::filesystem::path& target, const std::string& contents) {
  replace_file_atomically(target, [&](const std::filesystem::path& temp) {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.close();
    if (!out) throw std::runtime_error("cannot write " + temp.string());
  });
}

}  // namespace safetrain
