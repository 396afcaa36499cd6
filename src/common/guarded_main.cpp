#include "safetrain/common/guarded_main.hpp"

#include <cstdio>
#include <exception>
#include <string>

#include "safetrain/common/error.hpp"
#include "safetrain/common/stop_signals.hpp"

namespace safetrain {
namespace {

// LibTorch errors carry a C++ backtrace after the first line; users need the first line.
std::string first_line(const char* message) {
  std::string text(message);
  const auto newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

}  // namespace

int guarded_main(const char* tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, e.what());
    return kExitInputError;
  } catch (const StopRequested& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 128 + e.signal_number();
  } catch (const ResourceError& e) {
    std::fprintf(stderr, "%s: refused: %s\n", tool, e.what());
    return kExitResourceError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: failed: %s\n", tool, first_line(e.what()).c_str());
    return kExitRuntimeError;
  }
}

}  // namespace safetrain
