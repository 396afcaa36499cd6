#include "safetrain/monitor/phase.hpp"

#include "safetrain/monitor/memory_monitor.hpp"

namespace safetrain::monitor {

const char* phase_name(Phase phase) {
  switch (phase) {
    case Phase::idle: return "idle";
    case Phase::load: return "load";
    case Phase::build: return "build";
    case Phase::train: return "train";
    case Phase::validate: return "validate";
    case Phase::test: return "test";
    case Phase::plot: return "plot";
    case Phase::checkpoint: return "checkpoint";
    case Phase::descriptors: return "descriptors";
    case Phase::importance: return "importance";
  }
  return "?";
}

PhaseScope::PhaseScope(MemoryMonitor* monitor, Phase phase) : monitor_(monitor), phase_(phase) {
  if (monitor_) monitor_->enter(phase_);
}

PhaseScope::~PhaseScope() {
  if (monitor_) monitor_->exit(phase_);
}

}  // namespace safetrain::monitor
