#include "safetrain/tensorboard/event_file_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string_view>
#include <climits>
#include <cstdio>

#include "event.pb.h"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/tensorboard/tfrecord.hpp"

namespace fs = std::filesystem;

namespace safetrain::tensorboard {
namespace {

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// The newest time stamp among the event files in `dir` (0 when none).
long long newest_stamp_in(const fs::path& dir) {
  constexpr std::string_view kPrefix = "events.out.tfevents.";
  long long newest = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    newest = std::max(newest, std::atoll(name.c_str() + kPrefix.size()));
  }
  return newest;
}

// TensorFlow's name; the time first, so the files of successive sessions sort in the order they were written
// (TensorBoard reads a directory's files in name order, and the later session's START must come last). A
// session starting within the second of an earlier file's takes the next second: a pid does not order them.
fs::path new_file_in(const fs::path& dir) {
  const auto seconds = std::max(static_cast<long long>(wall_time()), newest_stamp_in(dir) + 1);
  for (int n = 0;; ++n) {
    char name[64];
    std::snprintf(name, sizeof name, "events.out.tfevents.%010lld.", seconds);
    const fs::path path = dir / (name + host_name() + "." + std::to_string(getpid()) + "." + std::to_string(n));
    if (!fs::exists(path)) return path;
  }
}

}  // namespace

EventFileWriter::EventFileWriter(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(dir.string() + ": cannot create: " + ec.message());
  path_ = new_file_in(dir);
  file_ = std::make_unique<CheckedFile>(path_, CheckedFile::Mode::kTruncate);
  Event version;
  version.set_wall_time(wall_time());
  version.set_file_version("brain.Event:2");
  append_tfrecord(pending_, version.SerializeAsString());
  flush();
}

EventFileWriter::~EventFileWriter() = default;

void EventFileWriter::add_scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  Event event;
  event.set_wall_time(wall_time());
  event.set_step(step);
  auto* summary = event.mutable_summary();
  for (const auto& [tag, value] : values) {
    auto* entry = summary->add_value();
    entry->set_tag(tag);
    entry->set_simple_value(static_cast<float>(value));
  }
  append_tfrecord(pending_, event.SerializeAsString());
}

void EventFileWriter::add_session_start(int64_t step) {
  Event event;
  event.set_wall_time(wall_time());
  event.set_step(step);
  event.mutable_session_log()->set_status(SessionLog::START);
  append_tfrecord(pending_, event.SerializeAsString());
}

void EventFileWriter::flush() {
  if (pending_.empty()) return;
  file_->write(pending_);
  file_->sync();
  pending_.clear();
}

}  // namespace safetrain::tensorboard
