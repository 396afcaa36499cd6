// Cache trimming on a schedule (the seed's empty_cache every N batches) and at every epoch end.
#include "safetrain/monitor/trim.hpp"
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void MemoryTrimCallback::on_train_batch_end(FitContext&, const BatchEnd&) {
  if (every_ <= 0 || ++since_trim_ < every_) return;
  monitor::release_cached_memory();
  since_trim_ = 0;
}

void MemoryTrimCallback::on_train_epoch_end(FitContext&, EpochRecord&) {
  monitor::release_cached_memory();
  since_trim_ = 0;
}

}  // namespace safetrain::train
