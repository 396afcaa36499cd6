#include "safetrain/data/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

constexpr int64_t kHeaderBytes = 4096;  // one page: the payload starts page-aligned
constexpr char kMagic[8] = {'S', 'T', 'M', 'A', 'P', 'P', 'E', 'D'};
constexpr uint64_t kFormatVersion = 1;

struct Header {
  char magic[8];
  uint64_t version, payload_bytes, footer_bytes;
};

uint32_t payload_crc(const char* data, int64_t bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  constexpr int64_t kChunk = int64_t{1} << 30;  // crc32 takes a 32-bit length
  for (int64_t done = 0; done < bytes; done += kChunk) {
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data + done), static_cast<uInt>(std::min(kChunk, bytes - done)));
  }
  return static_cast<uint32_t>(crc);
}

int64_t element_bytes(torch::Dtype dtype) { return static_cast<int64_t>(c10::elementSize(dtype)); }

int64_t numel_of(const std::vector<int64_t>& sizes) {
  int64_t n = 1;
  for (const auto s : sizes) n *= s;
  return n;
}

void check_block(int64_t offset, const std::vector<int64_t>& sizes, torch::Dtype dtype, int64_t payload_bytes,
                 const fs::path& path) {
  if (offset < 0 || offset % element_bytes(dtype) != 0 || offset + numel_of(sizes) * element_bytes(dtype) > payload_bytes) {
    throw std::logic_error(path.string() + ": tensor block at byte " + std::to_string(offset) + " is outside the payload");
  }
}

// Why the file cannot be trusted, or "" when its header, size and footer are consistent.
std::string read_header_and_footer(int fd, int64_t file_bytes, Header& header, nlohmann::json& footer) {
  if (file_bytes < kHeaderBytes) return "shorter than its header";
  if (::pread(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header)) return "unreadable header";
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0) return "not a safetrain data cache";
  if (header.version != kFormatVersion) return "format version " + std::to_string(header.version);
  const auto expected = kHeaderBytes + static_cast<int64_t>(header.payload_bytes + header.footer_bytes);
  if (file_bytes != expected) return std::to_string(file_bytes) + " bytes, expected " + std::to_string(expected);
  std::string text(header.footer_bytes, '\0');
  const auto at = static_cast<off_t>(kHeaderBytes + static_cast<int64_t>(header.payload_bytes));
  if (::pread(fd, text.data(), text.size(), at) != static_cast<ssize_t>(text.size())) return "unreadable footer";
  footer = nlohmann::json::parse(text, nullptr, false);
  if (footer.is_discarded() || !footer.contains("crc32")) return "damaged footer";
  return "";
}

}  // namespace

int64_t aligned_block_bytes(const std::vector<int64_t>& sizes, torch::Dtype dtype) {
  return (numel_of(sizes) * element_bytes(dtype) + 63) / 64 * 64;
}

std::shared_ptr<const MappedFile> MappedFile::open(const fs::path& path, std::string* why_not) {
  const auto refuse = [&](const std::string& why) -> std::shared_ptr<const MappedFile> {
    if (why_not) *why_not = why;
    return nullptr;
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return refuse(std::strerror(errno));
  struct stat info {};
  Header header{};
  auto file = std::make_shared<MappedFile>(Key{});
  const std::string problem = ::fstat(fd, &info) != 0
                                  ? std::string(std::strerror(errno))
                                  : read_header_and_footer(fd, static_cast<int64_t>(info.st_size), header, file->footer_);
  if (!problem.empty()) {
    ::close(fd);
    return refuse(problem);
  }
  void* base = ::mmap(nullptr, static_cast<size_t>(info.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping holds the file
  if (base == MAP_FAILED) return refuse(std::string("mmap: ") + std::strerror(errno));
  file->path_ = path;
  file->base_ = base;
  file->mapped_bytes_ = static_cast<size_t>(info.st_size);
  file->payload_bytes_ = static_cast<int64_t>(header.payload_bytes);
  const char* payload = static_cast<const char*>(base) + kHeaderBytes;
  ::madvise(base, file->mapped_bytes_, MADV_SEQUENTIAL);
  const auto crc = payload_crc(payload, file->payload_bytes_);
  ::madvise(base, file->mapped_bytes_, MADV_NORMAL);  // training gathers rows at random
  if (crc != file->footer_["crc32"].get<uint32_t>()) return refuse("checksum mismatch");
  return file;
}

MappedFile::~MappedFile() {
  if (base_) ::munmap(base_, mapped_bytes_);
}

torch::Tensor MappedFile::tensor(int64_t offset, const std::vector<int64_t>& sizes, torch::Dtype dtype) const {
  check_block(offset, sizes, dtype, payload_bytes_, path_);
  auto* data = static_cast<char*>(base_) + kHeaderBytes + offset;
  // The deleter holds the mapping: tensors (and their views) may outlive every other owner.
  return torch::from_blob(data, sizes, [keep = shared_from_this()](void*) {}, torch::TensorOptions().dtype(dtype));
}

MappedFileWriter::MappedFileWriter(fs::path target, int64_t payload_bytes)
    : target_(std::move(target)), payload_bytes_(payload_bytes) {
  temporary_ = target_;
  temporary_ += ".tmp." + std::to_string(::getpid());
  fd_ = ::open(temporary_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_write_error(temporary_, errno, "cannot create");
  mapped_bytes_ = static_cast<size_t>(kHeaderBytes + payload_bytes_);
  // Reserve every block now: writing through a mapping onto a full disk would be a SIGBUS, not an error.
  if (const int rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(mapped_bytes_)); rc != 0) {
    throw_write_error(temporary_, rc, "cannot reserve " + std::to_string(payload_bytes_ >> 20) + " MB for");
  }
  base_ = ::mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (base_ == MAP_FAILED) {
    base_ = nullptr;
    throw_write_error(temporary_, errno, "cannot map");
  }
}

MappedFileWriter::~MappedFileWriter() {
  if (base_) ::munmap(base_, mapped_bytes_);
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) {
    std::error_code ignored;
    fs::remove(temporary_, ignored);
  }
}

torch::Tensor MappedFileWriter::tensor(int64_t offset, const std::vector<int64_t>& sizes, torch::Dtype dtype) {
  check_block(offset, sizes, dtype, payload_bytes_, temporary_);
  return torch::from_blob(static_cast<char*>(base_) + kHeaderBytes + offset, sizes, torch::TensorOptions().dtype(dtype));
}

void MappedFileWriter::commit(nlohmann::json footer) {
  footer["crc32"] = payload_crc(static_cast<const char*>(base_) + kHeaderBytes, payload_bytes_);
  if (::msync(base_, mapped_bytes_, MS_SYNC) != 0) throw_write_error(temporary_, errno);
  ::munmap(base_, mapped_bytes_);
  base_ = nullptr;
  const std::string text = footer.dump();
  Header header{{}, kFormatVersion, static_cast<uint64_t>(payload_bytes_), text.size()};
  std::memcpy(header.magic, kMagic, sizeof kMagic);
  if (::lseek(fd_, static_cast<off_t>(mapped_bytes_), SEEK_SET) < 0) throw_write_error(temporary_, errno);
  write_all(fd_, text.data(), text.size(), temporary_);
  if (::lseek(fd_, 0, SEEK_SET) < 0) throw_write_error(temporary_, errno);
  write_all(fd_, reinterpret_cast<const char*>(&header), sizeof header, temporary_);
  if (::fsync(fd_) != 0) throw_write_error(temporary_, errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw_write_error(temporary_, errno);
  fs::rename(temporary_, target_);
  committed_ = true;
  fsync_directory(target_.parent_path());
}

std::optional<nlohmann::json> read_footer(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat info {};
  Header header{};
  nlohmann::json footer;
  const bool ok = ::fstat(fd, &info) == 0 &&
                  read_header_and_footer(fd, static_cast<int64_t>(info.st_size), header, footer).empty();
  ::close(fd);
  return ok ? std::optional<nlohmann::json>(std::move(footer)) : std::nullopt;
}

std::shared_ptr<const MappedFile> open_or_build(const fs::path& file, const std::function<void(const MappedFile&)>& check,
                                                const std::function<void()>& build) {
  std::string why;
  if (auto mapped = MappedFile::open(file, &why)) {
    try {
      check(*mapped);
      return mapped;
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  if (fs::exists(file)) log::warn("data: rebuilding the cache ", file.string(), " (", why, ")");
  build();
  auto mapped = MappedFile::open(file, &why);
  if (!mapped) throw IoError(file.string() + ": the cache just written does not verify (" + why + ")");
  check(*mapped);
  return mapped;
}

}  // namespace safetrain::data
