// Debian ships no CRC-32C library (zlib's crc32 uses the other polynomial), and TFRecord framing is a
// few hundred bytes per epoch, so a byte-wise table routine is enough: no SSE4.2 path to keep portable.
#include "safetrain/tensorboard/crc32c.hpp"

#include <array>

namespace safetrain::tensorboard {
namespace {

std::array<uint32_t, 256> make_table() {
  constexpr uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli, bit-reflected
  std::array<uint32_t, 256> table{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1u) ? (crc >> 1) ^ kPolynomial : crc >> 1;
    table[byte] = crc;
  }
  return table;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = make_table();
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFFu] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

}  // namespace safetrain::tensorboard
