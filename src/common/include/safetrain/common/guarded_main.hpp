#pragma once
// Every executable's main runs through this: errors become one line on
// stderr and the documented exit code, never a stack trace or an abort.
#include <functional>
#include <optional>
#include <string>

namespace safetrain {

// InputError -> 2; ResourceError, std::bad_alloc and LibTorch's
// "DefaultCPUAllocator: can't allocate memory" -> 3; IoError and any other
// exception -> 1. A body that returns 0 after some output file could not be
// written (output_status.hpp) exits 1 with that file named.
int guarded_main(const char* tool, const std::function<int()>& body);

// The refusal text for an allocation failure reported in `what` (LibTorch's
// CPU allocator message), with the size asked and the settings that help;
// nullopt for any other message.
std::optional<std::string> allocation_refusal(const std::string& what);

}  // namespace safetrain
