#include "safetrain/common/streamed_file.hpp"

#include <exception>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/checked_write.hpp"

namespace safetrain {

void write_streamed_atomically(const std::filesystem::path& target,
                               const std::function<void(const ChunkSink&)>& produce) {
  replace_file_atomically(target, [&](const std::filesystem::path& temp) {
    CheckedFile file(temp, CheckedFile::Mode::kTruncate);
    std::exception_ptr failure;
    const ChunkSink sink = [&](const void* data, size_t size) -> size_t {
      if (!failure) {
        try {
          file.write(static_cast<const char*>(data), size);
        } catch (...) {
          failure = std::current_exception();
        }
      }
      return size;  // a short count would make the producer throw mid-record
    };
    produce(sink);
    if (failure) std::rethrow_exception(failure);
    file.close();  // replace_file_atomically fsyncs it before the rename
  });
}

}  // namespace safetrain
