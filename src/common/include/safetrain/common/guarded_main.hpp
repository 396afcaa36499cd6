#pragma once
// Every executable's main runs through this: errors become one line on
// stderr and the documented exit code, never a stack trace or an abort.
#include <functional>

namespace safetrain {

// InputError -> 2, ResourceError -> 3, any other exception -> 1.
int guarded_main(const char* tool, const std::function<int()>& body);

}  // namespace safetrain
