// The process's resident memory and, on CUDA, the caching allocator's allocated bytes at each epoch's end:
// measured before the epoch-end trim, as the figures training itself holds.
#include "safetrain/common/units.hpp"
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void MemoryFiguresCallback::on_train_epoch_end(FitContext& c, EpochRecord& record) {
  record.metrics.log(metric::kRssMb, bytes_to_mb(monitor::current_rss_bytes()), MetricsRecord::Show::on_epoch_line);
  if (c.device.is_cuda()) {
    const auto device = monitor::cuda_memory(c.device.index() < 0 ? 0 : c.device.index());
    if (device.allocated >= 0) record.metrics.log(metric::kDeviceMb, bytes_to_mb(device.allocated));
  }
}

}  // namespace safetrain::train
