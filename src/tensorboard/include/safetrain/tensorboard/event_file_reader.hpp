#pragma once
// Reads a TensorBoard event file back, checking the framing (length, both masked CRC-32Cs) of every record:
// what the tests use to check the writer. The protobuf messages stay inside the library (LibTorch ships its
// own, older protobuf headers, which a file including both would mix with Debian's).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace safetrain::tensorboard {

struct ScalarPoint {
  int64_t step;
  std::string tag;
  float value;
};

struct EventFileContents {
  std::string file_version;  // of the first record
  std::vector<int64_t> session_starts;
  std::vector<ScalarPoint> scalars;
};

// std::runtime_error on a truncated record, a CRC that does not match, or a record that is not an Event.
EventFileContents read_event_file(const std::filesystem::path& file);
// The event files directly in `dir`, in name order (TensorBoard's reading order); none when `dir` is missing.
std::vector<std::filesystem::path> event_files(const std::filesystem::path& dir);

}  // namespace safetrain::tensorboard
