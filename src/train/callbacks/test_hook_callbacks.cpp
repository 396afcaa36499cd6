// The test hooks behind debug.*: the planted leak (memory kept on purpose after each validation) proves the
// leak detector names the validate phase; the injected signals put a stop at an exact point of a run.
#include <csignal>

#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void LeakPlanterCallback::on_validation_end(FitContext& c, EpochRecord&) {
  if (mb_per_epoch_ <= 0) return;
  const auto floats = static_cast<int64_t>(mb_per_epoch_ * 1048576.0 / sizeof(float));
  // Written, so the pages are resident; on the training device, so a device leak can be planted too.
  kept_.push_back(torch::ones({floats}, torch::TensorOptions().device(c.device)));
}

void SignalInjectorCallback::on_train_batch_end(FitContext&, const BatchEnd&) {
  if (debug_.sigint_at_batch > 0 && ++batches_ == debug_.sigint_at_batch) std::raise(SIGINT);
}

void SignalInjectorCallback::on_validation_start(FitContext& c) {
  if (debug_.sigint_at_validation == c.counters.epochs_completed + 1) std::raise(SIGINT);
}

void SignalInjectorCallback::on_test_start(FitContext&) {
  if (debug_.sigint_at_test) std::raise(SIGINT);
}

}  // namespace safetrain::train
