#pragma once
// One TensorBoard event file, as TensorFlow's EventFileWriter writes it: a new file per writer,
// DIR/events.out.tfevents.<unix time>.<host>.<pid>.<n>, opening with the "brain.Event:2" version record;
// then scalar events, buffered and written (and fsynced) at each flush. Never appends to an existing file,
// so a resumed run adds a file beside the earlier session's.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace safetrain {
class CheckedFile;
}

namespace safetrain::tensorboard {

class EventFileWriter {
 public:
  // Creates `dir` when missing. Writes are checked (IoError / DiskFullError naming the file).
  explicit EventFileWriter(const std::filesystem::path& dir);
  ~EventFileWriter();
  EventFileWriter(const EventFileWriter&) = delete;
  EventFileWriter& operator=(const EventFileWriter&) = delete;

  // One event at `step` holding a simple_value (a float, as TensorBoard stores scalars) per tag.
  void add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  // SessionLog START at `step`: TensorBoard drops the points an earlier session logged at `step` or later.
  void add_session_start(int64_t step);
  void flush();  // writes the buffered events and fsyncs
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::unique_ptr<CheckedFile> file_;
  std::string pending_;
};

}  // namespace safetrain::tensorboard
