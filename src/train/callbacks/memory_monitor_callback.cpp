// Tags the monitor's phases from the loop's hooks and turns its alarm into a clean stop.
#include "safetrain/monitor/memory_monitor.hpp"
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

using monitor::Phase;

void MemoryMonitorCallback::on_train_epoch_start(FitContext&, EpochRecord&) {
  if (monitor_) monitor_->enter(Phase::train);
}
void MemoryMonitorCallback::on_train_end(FitContext&, EpochRecord&) {
  if (monitor_) monitor_->exit(Phase::train);
}
void MemoryMonitorCallback::on_validation_start(FitContext&) {
  if (monitor_) monitor_->enter(Phase::validate);
}
void MemoryMonitorCallback::on_validation_end(FitContext&, EpochRecord&) {
  if (monitor_) monitor_->exit(Phase::validate);
}
void MemoryMonitorCallback::on_test_start(FitContext&) {
  if (monitor_) monitor_->enter(Phase::test);
}
void MemoryMonitorCallback::on_test_end(FitContext&) {
  if (monitor_) monitor_->exit(Phase::test);
}

void MemoryMonitorCallback::on_train_epoch_end(FitContext&, EpochRecord& record) {
  if (monitor_) monitor_->end_epoch(record.epoch);
}

std::optional<RunEnd> MemoryMonitorCallback::should_stop() const {
  if (monitor_ && monitor_->stop_requested()) return RunEnd::memory_alarm;
  return std::nullopt;
}

}  // namespace safetrain::train
