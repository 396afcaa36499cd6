#include "safetrain/common/guarded_main.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <new>
#include <string>

#include "safetrain/common/error.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/common/output_status.hpp"
#include "safetrain/common/text.hpp"

namespace safetrain {
namespace {

// LibTorch errors carry a C++ backtrace after the first line; users need the first line.
std::string first_line(const char* message) {
  std::string text(message);
  const auto newline = text.find('\n');
  return text::escape_control(newline == std::string::npos ? text : text.substr(0, newline));
}

constexpr const char* kMemorySettings =
    "lower training.batch_size, the model size (model.hidden, model.mlp_layers, model.d_model, model.num_layers), "
    "data.synthetic.rows or the CSV's size, or raise the memory limit (ulimit -v, the container's memory.max)";

int refuse(const char* tool, const std::string& message) {
  std::fprintf(stderr, "%s: refused: %s\n", tool, text::escape_control(message).c_str());
  return kExitResourceError;
}

// "PATH: cause (while doing what)" from std::filesystem's "filesystem error: what: cause [path]".
std::string filesystem_message(const std::filesystem::filesystem_error& e) {
  std::string action = e.what();
  const std::string prefix = "filesystem error: ";
  if (action.rfind(prefix, 0) == 0) action = action.substr(prefix.size());
  action = action.substr(0, action.find(": "));
  std::string paths = e.path1().string();
  if (!e.path2().empty()) paths += " -> " + e.path2().string();
  return (paths.empty() ? std::string() : paths + ": ") + e.code().message() + " (" + action + ")";
}

}  // namespace

std::optional<std::string> allocation_refusal(const std::string& what) {
  static const std::string marker = "DefaultCPUAllocator: can't allocate memory";
  if (what.find(marker) == std::string::npos) return std::nullopt;
  std::string asked = "an unknown amount";
  static const std::string prefix = "you tried to allocate ";
  const auto at = what.find(prefix);
  if (at != std::string::npos) {
    try {
      const double bytes = std::stod(what.substr(at + prefix.size()));
      char text[64];
      std::snprintf(text, sizeof text, "%.1f MB", bytes / (1024.0 * 1024.0));
      asked = text;
    } catch (const std::exception&) {
    }
  }
  return "out of memory: LibTorch could not allocate " + asked + " on the CPU; " + kMemorySettings;
}

int guarded_main(const char* tool, const std::function<int()>& body) {
  int code = kExitRuntimeError;
  try {
    code = body();
  } catch (const InputError& e) {
    std::fprintf(stderr, "%s: error: %s\n", tool, text::escape_control(e.what()).c_str());
    return kExitInputError;
  } catch (const StopRequested& e) {
    std::fprintf(stderr, "%s: %s\n", tool, text::escape_control(e.what()).c_str());
    return 128 + e.signal_number();
  } catch (const ResourceError& e) {
    return refuse(tool, e.what());
  } catch (const std::filesystem::filesystem_error& e) {
    // "filesystem error: cannot create directories: Not a directory [runs/x]" names neither first.
    std::fprintf(stderr, "%s: failed: %s\n", tool, text::escape_control(filesystem_message(e)).c_str());
    return kExitRuntimeError;
  } catch (const std::bad_alloc&) {
    return refuse(tool, std::string("out of memory (std::bad_alloc); ") + kMemorySettings);
  } catch (const std::exception& e) {
    if (const auto refusal = allocation_refusal(e.what())) return refuse(tool, *refusal);
    std::fprintf(stderr, "%s: failed: %s\n", tool, first_line(e.what()).c_str());
    return kExitRuntimeError;
  }
  if (code == kExitOk && output_write_failed()) {
    std::fprintf(stderr, "%s: failed: an output could not be written: %s\n", tool,
                 text::escape_control(first_output_write_failure()).c_str());
    return kExitRuntimeError;
  }
  return code;
}

}  // namespace safetrain
