#include "safetrain/tensorboard/event_file_reader.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "event.pb.h"
#include "safetrain/tensorboard/crc32c.hpp"

namespace safetrain::tensorboard {

EventFileContents read_event_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto u32 = [&](size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
  };
  EventFileContents contents;
  for (size_t at = 0; at < bytes.size();) {
    if (at + 12 > bytes.size()) throw std::runtime_error("truncated record header at byte " + std::to_string(at));
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | static_cast<unsigned char>(bytes[at + i]);
    if (u32(at + 8) != masked_crc32c(bytes.data() + at, 8)) throw std::runtime_error("length CRC");
    if (at + 12 + length + 4 > bytes.size()) throw std::runtime_error("truncated record at byte " + std::to_string(at));
    const std::string data = bytes.substr(at + 12, length);
    if (u32(at + 12 + length) != masked_crc32c(data.data(), data.size())) {
      throw std::runtime_error("data CRC");
    }
    Event event;
    if (!event.ParseFromString(data)) throw std::runtime_error("not an Event at byte " + std::to_string(at));
    if (at == 0) contents.file_version = event.file_version();
    if (event.has_session_log() && event.session_log().status() == SessionLog::START) {
      contents.session_starts.push_back(event.step());
    }
    if (event.has_summary()) {
      for (const auto& value : event.summary().value()) {
        contents.scalars.push_back({event.step(), value.tag(), value.simple_value()});
      }
    }
    at += 12 + length + 4;
  }
  return contents;
}

// The event files directly in `dir`, in name order (TensorBoard's reading order).
std::vector<std::filesystem::path> event_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::exists(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace safetrain::tensorboard
