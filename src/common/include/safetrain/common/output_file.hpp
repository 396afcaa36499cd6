#pragma once
// What a tool may do to a path the user told it to write (predict --output and --metrics,
// export_weights --output). The one policy, so that no output ever destroys what it names:
//  - a symlink is followed: its target is written and the link stays a link;
//  - a regular file or a new path is replaced atomically (temporary sibling, fsync, rename);
//  - a device, FIFO or socket is written in place (opened, never created, renamed or truncated);
//    /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N write to that descriptor itself;
//  - a directory, or the same file (device and inode) as one of the tool's inputs, is refused with
//    an InputError (exit 2) naming the path.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "safetrain/common/streamed_file.hpp"

namespace safetrain {

struct OutputTarget {
  enum class Mode { kAtomicReplace, kInPlace, kDescriptor };
  std::filesystem::path requested;  // as the user wrote it, for messages
  std::filesystem::path path;       // symlinks followed
  Mode mode = Mode::kAtomicReplace;
  int descriptor = -1;              // kDescriptor: an inherited descriptor (1 for /dev/stdout)
};

// Resolves `requested` under the policy above; `inputs` are the files the tool reads (a directory among
// them stands for every file in it). Throws InputError for a directory, a symlink loop or an input.
OutputTarget resolve_output_target(const std::filesystem::path& requested,
                                   const std::vector<std::filesystem::path>& inputs = {});

// Writes `contents` to `requested` under the policy (resolving it again: the inputs were checked before).
void write_output_file(const std::filesystem::path& requested, const std::string& contents);

// The same for a producer that hands the file over in chunks (streamed_file.hpp): no whole-file buffer.
void write_output_streamed(const std::filesystem::path& requested,
                           const std::function<void(const ChunkSink&)>& produce);

}  // namespace safetrain
