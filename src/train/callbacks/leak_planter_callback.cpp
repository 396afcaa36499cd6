// Test hook behind debug.plant_leak_mb_per_epoch: memory kept on purpose after each validation, so tests can
// prove that the leak detector names the validate phase.
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void LeakPlanterCallback::on_validation_end(FitContext& c, EpochRecord&) {
  if (mb_per_epoch_ <= 0) return;
  const auto floats = static_cast<int64_t>(mb_per_epoch_ * 1048576.0 / sizeof(float));
  // Written, so the pages are resident; on the training device, so a device leak can be planted too.
  kept_.push_back(torch::ones({floats}, torch::TensorOptions().device(c.device)));
}

}  // namespace safetrain::train
