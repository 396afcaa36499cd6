#pragma once
// Command-line parsing for every tool: --help exits 0, any mistake exits 2 (an input error, like a bad
// config) with CLI11's one-line message, never CLI11's own codes (106, 109, 114, ...).
#include <CLI/CLI.hpp>

#include <optional>

#include "safetrain/common/error.hpp"

namespace safetrain {

// Parses argv into `app`; returns the exit code when the tool should stop now (help, or a mistake).
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the help text or the error
    return code == 0 ? kExitOk : kExitInputError;
  }
  return std::nullopt;
}

}  // namespace safetrain

// The drop-in for CLI11_PARSE in a tool's main.
#define SAFETRAIN_PARSE(app, argc, argv) \
  if (const auto exit_now = ::safetrain::parse_command_line(app, argc, argv)) return *exit_now
