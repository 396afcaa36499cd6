#pragma once
// A cache file of tensors that is memory-mapped instead of read (data.storage: mmap). Its pages are
// the kernel's page cache (RssFile, reclaimable), not this process's anonymous memory, so a table larger
// than RAM can be trained on.
//
// Layout: one 4096-byte page [magic, format version, payload bytes, footer bytes], the page-aligned
// payload (the tensors, back to back), then a JSON footer holding the payload's CRC-32 and whatever the
// writer stores (names, layout, scalers). A file that is truncated, of another format or fails its
// checksum is never trusted: open() says why and the caller rebuilds it.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace safetrain::data {

class MappedFile : public std::enable_shared_from_this<MappedFile> {
  struct Key {};  // only open() makes one

 public:
  explicit MappedFile(Key) {}
  // The verified file, read-only; nullptr when it is missing or fails a check (`why_not` says which).
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path, std::string* why_not = nullptr);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const nlohmann::json& footer() const { return footer_; }
  const std::filesystem::path& path() const { return path_; }
  // A read-only tensor over payload bytes [offset, offset + nbytes); it keeps the mapping alive. Writing to it
  // faults: the cache is shared by every run that uses it.
  torch::Tensor tensor(int64_t offset, const std::vector<int64_t>& sizes, torch::Dtype dtype) const;

 private:
  std::filesystem::path path_;
  void* base_ = nullptr;
  size_t mapped_bytes_ = 0;
  int64_t payload_bytes_ = 0;
  nlohmann::json footer_;
};

// Writes a MappedFile: the payload is reserved up front (posix_fallocate, so a full disk is an error here,
// never a SIGBUS later), written through a shared mapping of a temporary file, and published by commit()
// with one rename. Destroyed without commit(), it removes the temporary file.
class MappedFileWriter {
 public:
  MappedFileWriter(std::filesystem::path target, int64_t payload_bytes);
  ~MappedFileWriter();
  MappedFileWriter(const MappedFileWriter&) = delete;
  MappedFileWriter& operator=(const MappedFileWriter&) = delete;

  // A writable tensor over payload bytes [offset, offset + nbytes), valid until commit().
  torch::Tensor tensor(int64_t offset, const std::vector<int64_t>& sizes, torch::Dtype dtype);
  // Checksum, footer, fsync, rename onto the target.
  void commit(nlohmann::json footer);

 private:
  std::filesystem::path target_, temporary_;
  int fd_ = -1;
  void* base_ = nullptr;
  size_t mapped_bytes_ = 0;
  int64_t payload_bytes_ = 0;
  bool committed_ = false;
};

// The footer of the cache at `path` without verifying its payload (a cheap look, for housekeeping); nullopt when
// the file is not a readable cache.
std::optional<nlohmann::json> read_footer(const std::filesystem::path& path);

// The verified cache at `file`, accepted by `check` (which throws when the content is not what the caller
// needs); when it is missing, damaged or refused, `build` writes it first (with one log line saying why).
std::shared_ptr<const MappedFile> open_or_build(const std::filesystem::path& file,
                                                const std::function<void(const MappedFile&)>& check,
                                                const std::function<void()>& build);

// Bytes of a tensor of `sizes` and `dtype`, rounded up to 64 so every block of the payload stays aligned.
int64_t aligned_block_bytes(const std::vector<int64_t>& sizes, torch::Dtype dtype);

}  // namespace safetrain::data
