#pragma once
// Training phases for the memory report, marked with an RAII scope.
#include <string>

namespace safetrain::monitor {

// descriptors: the descriptor pruner, inside load; importance: permutation importance, inside plot. A scope
// inside another restores the outer phase on exit.
enum class Phase { idle, load, build, train, validate, test, plot, checkpoint, descriptors, importance };
const char* phase_name(Phase phase);

class MemoryMonitor;

class PhaseScope {
 public:
  PhaseScope(MemoryMonitor* monitor, Phase phase);  // null monitor: no-op
  ~PhaseScope();
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  MemoryMonitor* monitor_;
  Phase phase_;
};

}  // namespace safetrain::monitor
