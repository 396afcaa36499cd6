#pragma once
// A private temporary directory per test process: ctest runs the tests of
// one binary as separate processes, in parallel, so a fixed name under /tmp
// would be shared (and removed) by concurrent tests and left behind by
// sanitizer runs. The root is made with mkdtemp and removed at exit.
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace safetrain::testing_support {

class ProcessScratchRoot {
 public:
  ProcessScratchRoot() {
    std::string pattern = (std::filesystem::temp_directory_path() / "safetrain_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    root_ = pattern;
  }
  ~ProcessScratchRoot() {
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  const std::filesystem::path& path() const { return root_; }

 private:
  std::filesystem::path root_;
};

// An empty directory `name` under this process's own temporary root.
inline std::filesystem::path scratch_dir(const std::string& name) {
  static ProcessScratchRoot root;
  const auto dir = root.path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace safetrain::testing_support
