#pragma once
// Error types shared by every layer. The executables map them to exit codes:
// InputError (bad config, bad data, bad flags) -> 2, ResourceError -> 3,
// anything else (IoError included) -> 1.
#include <stdexcept>
#include <string>

namespace safetrain {

// A problem with what the user gave us: a config key, a CSV cell, a flag.
// The message already names the file, line, column or key.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Refused on purpose before doing damage (e.g. not enough free memory).
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file could not be written (or synced, closed, renamed). The message names
// the file and the reason (strerror). Exit code 1: the run's work is lost or
// incomplete, not the user's input at fault.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ENOSPC / EDQUOT: "disk full at PATH (N MB free)".
class DiskFullError : public IoError {
 public:
  using IoError::IoError;
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitInputError = 2;
inline constexpr int kExitResourceError = 3;

}  // namespace safetrain
