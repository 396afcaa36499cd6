// Data-parallel runs only: the share of the training pass spent in collectives (the bench reads it) and a
// checksum of the weights after every epoch (equal on every rank; the 2-rank test compares them).
#include "safetrain/common/log.hpp"
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void DistributedCallback::on_train_epoch_start(FitContext&, EpochRecord&) {
  ranks_.take_collective_seconds();  // the epoch-end agreement belongs to no training pass
}

void DistributedCallback::on_train_end(FitContext&, EpochRecord& record) {
  const double collective = ranks_.take_collective_seconds();
  const double seconds = record.metrics.value_or(metric::kSeconds, 0.0);
  log::info("ddp: epoch ", record.epoch, " all-reduce ", collective, " s of ", seconds, " s training (",
            seconds > 0 ? 100.0 * collective / seconds : 0.0, "% of step time)");
}

void DistributedCallback::on_train_epoch_end(FitContext& c, EpochRecord& record) {
  log::info("ddp: epoch ", record.epoch, " parameter checksum ", RankGroup::parameter_checksum(c.model));
}

}  // namespace safetrain::train
