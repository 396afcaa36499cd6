// The TensorBoard writer's pieces: CRC-32C against the published vectors, TFRecord framing, and an event
// file read back record by record.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "safetrain/tensorboard/event_file_reader.hpp"
#include "safetrain/tensorboard/crc32c.hpp"
#include "safetrain/tensorboard/event_file_writer.hpp"
#include "safetrain/tensorboard/tfrecord.hpp"

namespace fs = std::filesystem;
using namespace safetrain::tensorboard;

TEST(Crc32c, MatchesTheRfc3720Vectors) {
  const std::string zeros(32, '\0'), ones(32, '\xff');
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  for (int i = 31; i >= 0; --i) descending.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending.data(), ascending.size()), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending.data(), descending.size()), 0x113FDB5Cu);
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(Crc32c, MaskRotatesAndAddsTheTfRecordConstant) {
  const uint32_t crc = crc32c("123456789", 9);
  EXPECT_EQ(masked_crc32c("123456789", 9), ((crc >> 15) | (crc << 17)) + 0xa282ead8u);
}

TEST(TfRecord, FramesLengthChecksumDataChecksum) {
  std::string out;
  append_tfrecord(out, "abc");
  ASSERT_EQ(out.size(), 8u + 4u + 3u + 4u);
  EXPECT_EQ(out.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));  // little-endian uint64
  const auto u32_at = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<unsigned char>(out[at])) |
           static_cast<uint32_t>(static_cast<unsigned char>(out[at + 1])) << 8 |
           static_cast<uint32_t>(static_cast<unsigned char>(out[at + 2])) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(out[at + 3])) << 24;
  };
  EXPECT_EQ(u32_at(8), masked_crc32c(out.data(), 8));
  EXPECT_EQ(out.substr(12, 3), "abc");
  EXPECT_EQ(u32_at(15), masked_crc32c("abc", 3));
}

TEST(EventFileWriter, WritesTheVersionFirstThenScalarsAndANewFileEachTime) {
  const fs::path dir = fs::path(SAFETRAIN_BINARY_DIR) / "event-file-test";
  fs::remove_all(dir);
  {
    EventFileWriter writer(dir);
    writer.add_session_start(1);
    writer.add_scalars(1, {{"train_loss", 0.5}, {"val_mae/x", 0.0}});
    writer.add_scalars(2, {{"train_loss", 0.25}});
    writer.flush();
  }
  EventFileWriter second(dir);  // a resumed session: a file of its own, the first one untouched
  const auto files = safetrain::tensorboard::event_files(dir);
  ASSERT_EQ(files.size(), 2u);
  // Within the same second as the first, the later session's file still sorts last (TensorBoard's order).
  EXPECT_EQ(files[1], second.path());
  const auto first = safetrain::tensorboard::read_event_file(files[0]);
  EXPECT_EQ(first.file_version, "brain.Event:2");
  EXPECT_EQ(first.session_starts, std::vector<int64_t>{1});
  ASSERT_EQ(first.scalars.size(), 3u);
  EXPECT_EQ(first.scalars[0].tag, "train_loss");
  EXPECT_EQ(first.scalars[0].step, 1);
  EXPECT_FLOAT_EQ(first.scalars[0].value, 0.5f);
  EXPECT_EQ(first.scalars[1].tag, "val_mae/x");  // a zero is written, not dropped as proto3's default
  EXPECT_FLOAT_EQ(first.scalars[1].value, 0.0f);
  EXPECT_EQ(first.scalars[2].step, 2);
  EXPECT_FLOAT_EQ(first.scalars[2].value, 0.25f);
  EXPECT_EQ(safetrain::tensorboard::read_event_file(second.path()).file_version, "brain.Event:2");
}
