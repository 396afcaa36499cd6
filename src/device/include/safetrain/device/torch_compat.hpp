#pragma once
// The LibTorch version differences safetrain meets, in one place. Supported: LibTorch 2.4 and later
// (CMake refuses older ones); each entry says which version changed what.
#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <optional>
#include <string>

#if TORCH_VERSION_MAJOR < 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 4)
#error "safetrain needs LibTorch 2.4 or later (README: Building against another LibTorch)"
#endif

namespace safetrain::device::compat {

// Autocast: per-device-type setters since 2.4 (the per-device is_enabled/set_cpu_enabled are deprecated).
inline bool autocast_enabled(c10::DeviceType type) { return at::autocast::is_autocast_enabled(type); }
inline void set_autocast(c10::DeviceType type, bool enabled, std::optional<c10::ScalarType> dtype) {
  if (dtype) at::autocast::set_autocast_dtype(type, *dtype);
  at::autocast::set_autocast_enabled(type, enabled);
}

// An out-of-memory error as the allocators throw it (c10::OutOfMemoryError since 2.0; the
// (message, backtrace) constructor of 1.x is gone), for injected failures in tests.
[[noreturn]] inline void throw_out_of_memory(const std::string& message) {
  throw c10::OutOfMemoryError(c10::SourceLocation{__func__, __FILE__, static_cast<uint32_t>(__LINE__)}, message);
}

}  // namespace safetrain::device::compat
