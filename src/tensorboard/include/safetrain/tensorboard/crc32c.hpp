#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of TFRecord framing.
#include <cstddef>
#include <cstdint>

namespace safetrain::tensorboard {

uint32_t crc32c(const void* data, size_t size);
// TFRecord's masked form: ((crc >> 15) | (crc << 17)) + 0xa282ead8, so a CRC of data that holds CRCs
// stays well distributed.
uint32_t masked_crc32c(const void* data, size_t size);

}  // namespace safetrain::tensorboard
