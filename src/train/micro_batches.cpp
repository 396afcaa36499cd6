#include "safetrain/train/micro_batches.hpp"

#include <cmath>

#include "safetrain/common/log.hpp"
#include "safetrain/device/torch_compat.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/train/device.hpp"
#include "safetrain/train/train_loop.hpp"

namespace safetrain::train {

MicroBatchStepper::MicroBatchStepper(const StepParts& parts, OptimizerStep& step, OnOom on_oom, int64_t micro)
    : parts_(parts), step_(step), on_oom_(on_oom), micro_(micro) {}

BatchOutcome MicroBatchStepper::accumulate(const data::Batch& batch, int64_t window, bool inject_oom) {
  const int64_t rows = batch.x.size(0);
  const int64_t chunk = micro_ > 0 ? std::min(micro_, rows) : rows;
  BatchOutcome outcome;
  for (int64_t start = 0; start < rows; start += chunk) {
    const int64_t n = std::min(chunk, rows - start);
    const bool whole = n == rows;
    auto x = whole ? batch.x : batch.x.narrow(0, start, n);
    auto y = whole ? batch.y : batch.y.narrow(0, start, n);
    if (!parts_.device.is_cpu()) {
      x = x.to(parts_.device, /*non_blocking=*/true);
      y = y.to(parts_.device, /*non_blocking=*/true);
    }
    torch::Tensor loss;
    {
      AutocastScope autocast(parts_.precision, parts_.device);
      loss = torch::mse_loss(parts_.forward(x).to(torch::kFloat), y);
    }
    if (inject_oom) device::compat::throw_out_of_memory("CPU out of memory (injected by debug.inject_oom_at_step)");
    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
      // Chunks before this one are in the gradients already: drop the window and replay its earlier batches.
      if (start > 0) {
        step_.discard_gradients();
        for (const auto& [kept, kept_window] : window_batches_) accumulate(kept, kept_window, false);
      }
      return {NAN, false, false};
    }
    const double share = static_cast<double>(n) / static_cast<double>(rows);
    step_.backward(whole ? loss : loss * share, window);  // sum of shares x chunk means = the batch mean
    outcome.loss += value * share;
  }
  return outcome;
}

bool MicroBatchStepper::shrink(int64_t batch_rows) {
  const int64_t current = micro_ > 0 ? std::min(micro_, batch_rows) : batch_rows;
  if (on_oom_ != OnOom::shrink || current <= 1) return false;
  micro_ = current / 2;
  log::warn("out of memory in a training step: micro-batch ", current, " -> ", micro_,
            " (accumulation x2, effective batch unchanged; training.on_oom: shrink); retrying the step");
  return true;
}

BatchOutcome MicroBatchStepper::run(const data::Batch& batch, int64_t window, bool inject_oom) {
  bool replay = false;
  for (;;) {
    try {
      if (replay) {
        for (const auto& [kept, kept_window] : window_batches_) accumulate(kept, kept_window, false);
      }
      const auto outcome = accumulate(batch, window, std::exchange(inject_oom, false));
      if (outcome.finite && on_oom_ == OnOom::shrink) window_batches_.emplace_back(batch, window);  // for a replay
      return outcome;
    } catch (const c10::Error& e) {
      if (!is_out_of_memory(e)) throw;
      step_.discard_gradients();  // the failed step's tensors are gone with the unwound frames
      monitor::release_cached_memory();
      if (!shrink(batch.x.size(0))) {
        log::error("out of memory in a training step at micro-batch ", micro_ > 0 ? micro_ : batch.x.size(0),
                   ": try a smaller training.batch_size with training.accumulate_grad_batches to keep the "
                   "effective batch, training.on_oom: shrink, or training.precision 16 on a GPU");
        return {NAN, true, true};
      }
      replay = true;
    }
  }
}

}  // namespace safetrain::train
