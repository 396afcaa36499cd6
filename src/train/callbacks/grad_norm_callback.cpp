// The gradient norm before clipping, averaged over the epoch's optimizer steps: the grad_norm column.
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void GradNormCallback::on_train_batch_end(FitContext&, const BatchEnd& batch) {
  if (!batch.stepped || !batch.grad_norm || !std::isfinite(*batch.grad_norm)) return;
  sum_ += *batch.grad_norm;
  ++steps_;
}

void GradNormCallback::on_train_epoch_end(FitContext&, EpochRecord& record) {
  if (steps_ > 0) record.metrics.log(metric::kGradNorm, sum_ / static_cast<double>(steps_));
}

}  // namespace safetrain::train
