#pragma once
// TFRecord framing, the container of TensorBoard event files: each record is
//   uint64 length (little-endian) | uint32 masked CRC-32C of those 8 bytes | data | uint32 masked CRC-32C of data
#include <string>

namespace safetrain::tensorboard {

// Appends one framed record holding `data` to `out`.
void append_tfrecord(std::string& out, const std::string& data);

}  // namespace safetrain::tensorboard
