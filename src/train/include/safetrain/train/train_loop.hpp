#pragma once
// The inner loops: one training epoch and one evaluation pass. They take the
// parts they use (model, loader, optimizer step, precision, meters), not the
// session, so they are tested on their own (tests/train/train_loop_test.cpp).
#include <torch/torch.h>

#include <functional>
#include <optional>

#include "safetrain/data/loader.hpp"
#include "safetrain/eval/output_buffer.hpp"
#include "safetrain/eval/streaming_metrics.hpp"
#include "safetrain/train/callback.hpp"
#include "safetrain/train/grad_scaler.hpp"
#include "safetrain/train/optimizer_step.hpp"
#include "safetrain/train/precision.hpp"

namespace safetrain::train {

using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

// A data-parallel run's agreement between ranks inside the epoch (null in a single process). Every rank
// calls both at the same points of the loop, so their collectives pair up.
class StepSync {
 public:
  virtual ~StepSync() = default;
  // Called once per batch after its backward: the stop every rank takes (the most severe request of any).
  virtual std::optional<RunEnd> agree_on_stop(std::optional<RunEnd> local) = 0;
  // Called at each accumulation window's end: every gradient becomes its mean over the ranks.
  virtual void average_gradients() = 0;
};

// What a training step needs.
struct StepParts {
  torch::nn::Module& model;
  Forward forward;
  torch::optim::Optimizer& optimizer;
  GradScaler& scaler;
  const PrecisionPlan& precision;
  torch::Device device;
  StepSync* sync = nullptr;  // data-parallel ranks only
};

struct TrainLoopOptions {
  StepSettings step;
  int64_t limit_batches = 0;  // 0 = every batch
  OnNan on_nan = OnNan::stop;
  OnOom on_oom = OnOom::stop;
  int64_t micro_batch = 0;         // rows per micro-batch after out-of-memory shrinks; 0 = the loader's batch
  int64_t steps_before = 0;        // optimizer steps of earlier epochs (for the test hook)
  int64_t inject_oom_at_step = 0;  // debug.inject_oom_at_step
};

struct TrainPass {
  double mean_loss = NAN;
  double loss_sum = 0;  // sum over samples of the batch-mean loss x batch rows
  int64_t samples = 0, steps = 0, nan_skipped = 0;
  double seconds = 0, loader_wait_seconds = 0;
  std::optional<RunEnd> stop;  // the pass ended early
  int64_t micro_batch = 0;     // the micro-batch at the end of the pass (options.micro_batch unless shrunk)
};

// Batches the epoch will run under these options.
int64_t planned_batches(const data::Loader& loader, const TrainLoopOptions& options);

// One epoch of training. After every batch: `on_batch_end`, then `should_stop` (a stop drops the
// unfinished accumulation window). A non-finite loss is skipped or stops the pass (options.on_nan);
// an out-of-memory error halves the micro-batch and retries (options.on_oom: shrink, see micro_batches.hpp)
// or stops the pass after releasing what the step held.
TrainPass train_one_epoch(const StepParts& parts, data::Loader& loader, int64_t epoch, const TrainLoopOptions& options,
                          const std::function<void(const BatchEnd&)>& on_batch_end,
                          const std::function<std::optional<RunEnd>()>& should_stop);

struct EvalPass {
  double loss = NAN;  // MSE in the model's (standardised) units
  double loss_sum = 0;  // loss x samples
  int64_t samples = 0;
  bool interrupted = false;
};

// How an evaluation survives an out-of-memory forward (training.on_oom: shrink): its batches are run in pieces of
// `rows`, halved on each out-of-memory error down to one row. Validation and test each keep their own, across
// epochs; the training batch is never touched.
struct EvalPieces {
  OnOom on_oom = OnOom::stop;
  int64_t rows = 0;          // rows per forward; 0 = the whole loader batch
  bool inject_oom = false;   // one out-of-memory error in the next forward (debug.inject_eval_oom)
  std::string split = "validation";
};

// What an evaluation pass reads (the model, a split's loader) and fills (that split's meters and pieces).
struct EvalParts {
  torch::nn::Module& model;
  Forward forward;
  const PrecisionPlan& precision;
  torch::Device device;
  data::Loader& loader;
  const data::Standardizer& target_scaler;  // back to the targets' own units for the meters
  eval::StreamingMetrics& metrics;
  eval::OutputBuffer& buffer;
  EvalPieces& pieces;
};

// Evaluates without gradients; metrics and the bounded buffer receive predictions and targets in the
// targets' own units, the buffer tagged with `epoch`. `should_stop` is asked between batches.
EvalPass evaluate(const EvalParts& parts, int64_t epoch, const std::function<bool()>& should_stop = {});

}  // namespace safetrain::train
