#pragma once
// The message of the InputError an action throws, or "" when it throws none: tests assert that
// bad input is refused with a message naming the file, line or key.
#include <functional>
#include <string>

#include "safetrain/common/error.hpp"

namespace safetrain::testing_support {

inline std::string input_error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace safetrain::testing_support
