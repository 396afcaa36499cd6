#include "safetrain/common/openmp_policy.hpp"

#include <unistd.h>

#include <cstdlib>

namespace safetrain {

void ensure_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;  // the user's choice (or ours, after the re-exec)
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);
  // execv returned: keep running with the default policy rather than fail.
}

}  // namespace safetrain
