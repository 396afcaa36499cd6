#include "safetrain/tensorboard/tfrecord.hpp"

#include <cstdint>

#include "safetrain/tensorboard/crc32c.hpp"

namespace safetrain::tensorboard {
namespace {

// Little-endian whatever the host's order, as the format fixes it.
template <typename T>
void append_le(std::string& out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

}  // namespace

void append_tfrecord(std::string& out, const std::string& data) {
  std::string length;
  append_le<uint64_t>(length, data.size());
  out += length;
  append_le<uint32_t>(out, masked_crc32c(length.data(), length.size()));
  out += data;
  append_le<uint32_t>(out, masked_crc32c(data.data(), data.size()));
}

}  // namespace safetrain::tensorboard
