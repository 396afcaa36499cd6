#include "safetrain/common/error.hpp"
#include "safetrain/common/run_layout.hpp"

namespace safetrain {

void check_run_name(const std::string& name) {
  const bool safe_characters = name.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
  if (!safe_characters || name == "." || name == ".." || name.size() > kMaxRunNameLength) {
    const std::string shown =
        name.size() > 60 ? name.substr(0, 60) + "... (" + std::to_string(name.size()) + " characters)" : name;
    throw InputError("output.run_name: '" + shown + "' is not a valid run name: use one folder name of at most " +
                     std::to_string(kMaxRunNameLength) +
                     " characters from A-Z a-z 0-9 . _ - (not '.' or '..'); the run is created inside output.dir");
  }
}

}  // namespace safetrain
