#pragma once
// Survive an out-of-memory step (training.on_oom: shrink): a loader batch runs as micro-batches of at most
// `micro` rows whose losses are weighted by their share of the batch, so the accumulated gradient is the whole
// batch's. Halving the micro-batch is then the same as halving training.batch_size and doubling
// accumulate_grad_batches: the loader's rows, the effective batch and the optimizer's trajectory stay.
#include <torch/torch.h>

#include <vector>

#include "safetrain/data/loader.hpp"
#include "safetrain/train/optimizer_step.hpp"
#include "safetrain/train/training_options.hpp"

namespace safetrain::train {

struct StepParts;

struct BatchOutcome {
  double loss = 0;             // the batch's mean loss
  bool finite = true;          // false: a non-finite loss; nothing of this batch is left in the gradients
  bool out_of_memory = false;  // out of memory at micro-batch 1 (or on_oom: stop): the pass must stop
};

class MicroBatchStepper {
 public:
  // micro: rows per micro-batch, 0 = the whole loader batch.
  MicroBatchStepper(const StepParts& parts, OptimizerStep& step, OnOom on_oom, int64_t micro);

  // Forward and backward of one batch into the current window. On out of memory (with shrink) the window's
  // gradients are dropped, the caches released, the micro-batch halved, and the window replayed: the
  // batches it already held, then this one. `inject_oom` raises one out-of-memory error (a test hook).
  BatchOutcome run(const data::Batch& batch, int64_t window, bool inject_oom = false);
  void end_window() { window_batches_.clear(); }  // after the optimizer step or a dropped window
  int64_t micro_batch() const { return micro_; }

 private:
  BatchOutcome accumulate(const data::Batch& batch, int64_t window, bool inject_oom);
  bool shrink(int64_t batch_rows);  // false at the floor (or on_oom: stop)

  const StepParts& parts_;
  OptimizerStep& step_;
  OnOom on_oom_;
  int64_t micro_;
  std::vector<std::pair<data::Batch, int64_t>> window_batches_;  // this window's batches so far, for a replay
};

}  // namespace safetrain::train
