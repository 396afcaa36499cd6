#pragma once
// Error types shared by every layer. The executables map them to exit codes:
// InputError (bad config, bad data, bad flags) -> 2, anything else -> 1.
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

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;
inline constexpr int kExitInputError = 2;
inline constexpr int kExitResourceError = 3;

}  // namespace safetrain
