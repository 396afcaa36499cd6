#pragma once
// Writes a file that a producer hands over in chunks (LibTorch's archive writers call a function per
// record), atomically and without holding the whole file in memory: each chunk goes straight to a
// temporary file, which is then synced and renamed over the target (atomic_file.hpp).
//
// The chunk function never throws: LibTorch's writers cannot take an exception from it, and their
// own file writer throws again from its destructor on a full disk (std::terminate). The first write
// error is kept, later chunks are dropped, and it is rethrown (IoError / DiskFullError naming the
// file) once the producer has returned.
#include <cstddef>
#include <filesystem>
#include <functional>

namespace safetrain {

using ChunkSink = std::function<size_t(const void* data, size_t size)>;

void write_streamed_atomically(const std::filesystem::path& target,
                               const std::function<void(const ChunkSink&)>& produce);

}  // namespace safetrain
