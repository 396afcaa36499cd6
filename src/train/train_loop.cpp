// One training epoch: forward under autocast, the loss, backward into the accumulation window, the optimizer
// step at the window's end; non-finite losses and out-of-memory errors end the step cleanly (or, with
// training.on_oom: shrink, the step is retried in smaller micro-batches: micro_batches.cpp).
#include <chrono>
#include <cmath>

#include "safetrain/common/log.hpp"
#include "safetrain/device/torch_compat.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/train/device.hpp"
#include "safetrain/train/micro_batches.hpp"
#include "safetrain/train/train_loop.hpp"

namespace safetrain::train {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device) {
  // Pinned host batches (CUDA builds) make this copy asynchronous.
  return device.is_cpu() ? t : t.to(device, /*non_blocking=*/true);
}

}  // namespace

int64_t planned_batches(const data::Loader& loader, const TrainLoopOptions& options) {
  const int64_t batches = loader.batches_per_epoch();
  return options.limit_batches > 0 ? std::min(batches, options.limit_batches) : batches;
}

namespace {

// What one batch's forward and backward left: its loss, or a skip, or a stop (the window's gradients are
// then already discarded).
struct BatchWork {
  double loss = 0;
  bool skipped = false;
  std::optional<RunEnd> stop;
};

BatchWork forward_backward(MicroBatchStepper& stepper, OptimizerStep& step, const data::Batch& batch,
                           int64_t epoch, int64_t b, int64_t window, OnNan on_nan, bool inject_oom) {
  BatchWork work;
  const auto outcome = stepper.run(batch, window, inject_oom);
  if (outcome.out_of_memory) {  // the stepper said why; nothing of the window is kept
    step.discard_gradients();
    work.stop = RunEnd::out_of_memory;
    return work;
  }
  work.loss = outcome.loss;
  if (outcome.finite) return work;
  if (on_nan == OnNan::skip) {
    log::warn("non-finite loss at epoch ", epoch + 1, " batch ", b + 1, ": batch skipped (training.on_nan: skip)");
    work.skipped = true;
    return work;
  }
  log::error("non-finite loss at epoch ", epoch + 1, " batch ", b + 1,
             ": stopping (training.on_nan: stop); the last good checkpoint is kept");
  step.discard_gradients();
  work.stop = RunEnd::nan_loss;
  return work;
}

// Where a pass may stop: the one difference between a single process and data-parallel ranks. One process
// stops on its own: at a failed batch or optimizer step at once, at a requested stop after the batch's callbacks;
// a skipped batch leaves its window open. Ranks (parts.sync) ask their peers once per batch, right after its
// backward, with their most urgent reason (this batch failed, an earlier step failed, a stop requested), so
// every rank takes the same branches: a skipped batch still joins its window, contributing no gradient, a failed
// step waits for the next agreement, and gradients are averaged before each step.
class SyncPolicy {
 public:
  SyncPolicy(StepSync* sync, const std::function<std::optional<RunEnd>()>& should_stop)
      : sync_(sync), should_stop_(should_stop) {}
  // After a batch's backward; `failed`: the batch's own stop.
  std::optional<RunEnd> after_backward(std::optional<RunEnd> failed) {
    if (!sync_) return failed;
    if (!failed) failed = pending_;
    if (!failed) failed = should_stop_();
    return sync_->agree_on_stop(failed);
  }
  bool skipped_batch_joins_window() const { return sync_ != nullptr; }
  void before_step() {
    if (sync_) sync_->average_gradients();
  }
  std::optional<RunEnd> after_failed_step(RunEnd failed) {
    if (!sync_) return failed;
    pending_ = failed;
    return std::nullopt;
  }
  // After the batch's callbacks.
  std::optional<RunEnd> after_batch() { return sync_ ? std::nullopt : should_stop_(); }

 private:
  StepSync* sync_;
  const std::function<std::optional<RunEnd>()>& should_stop_;
  std::optional<RunEnd> pending_;  // a failed step's stop, agreed at the next batch
};

// The optimizer step closing a window, reported in `end`; false when it ran out of memory (the window's
// gradients are then dropped and the caches released).
bool close_window(OptimizerStep& step, MicroBatchStepper& stepper, SyncPolicy& sync, BatchEnd& end,
                  int64_t batch_rows) {
  try {
    sync.before_step();
    end.stepped = step.finish_window();
    end.grad_norm = step.last_gradient_norm();
    stepper.end_window();
    return true;
  } catch (const c10::Error& e) {
    if (!is_out_of_memory(e)) throw;
    step.discard_gradients();
    monitor::release_cached_memory();
    log::error("out of memory in the optimizer step (batch_size ", batch_rows,
               "): its moments need room; try a smaller model, or training.precision 16 on a GPU");
    stepper.end_window();
    return false;
  }
}

}  // namespace

TrainPass train_one_epoch(const StepParts& parts, data::Loader& loader, int64_t epoch, const TrainLoopOptions& options,
                          const std::function<void(const BatchEnd&)>& on_batch_end,
                          const std::function<std::optional<RunEnd>()>& should_stop) {
  const auto start = std::chrono::steady_clock::now();
  TrainPass result;
  parts.model.train();
  auto pass = loader.epoch(epoch);
  const int64_t batches = planned_batches(loader, options);
  const int64_t accumulate = options.step.accumulate_grad_batches;
  OptimizerStep step(parts.model.parameters(), parts.optimizer, parts.scaler, options.step);
  MicroBatchStepper stepper(parts, step, options.on_oom, options.micro_batch);
  SyncPolicy sync(parts.sync, should_stop);
  parts.optimizer.zero_grad();
  for (int64_t b = 0; b < batches && !result.stop; ++b) {
    auto batch = pass->next();
    if (!batch) break;
    const int64_t rows = batch->x.size(0);
    const bool inject = b % accumulate == 0 && options.steps_before + result.steps + 1 == options.inject_oom_at_step;
    const auto work =
        forward_backward(stepper, step, *batch, epoch, b, window_size(b, batches, accumulate), options.on_nan, inject);
    result.nan_skipped += work.skipped ? 1 : 0;
    if ((result.stop = sync.after_backward(work.stop))) {
      step.discard_gradients();  // the unfinished window is dropped (on every rank)
      break;
    }
    if (work.skipped && !sync.skipped_batch_joins_window()) continue;
    BatchEnd end;
    end.epoch = epoch;
    end.batch = b + 1;
    end.batches = batches;
    if ((b + 1) % accumulate == 0 || b + 1 == batches) {
      if (close_window(step, stepper, sync, end, rows)) {
        ++result.steps;
      } else if ((result.stop = sync.after_failed_step(RunEnd::out_of_memory))) {
        break;
      }
    }
    if (!work.skipped) {
      end.loss = work.loss;
      result.loss_sum += work.loss * static_cast<double>(rows);
      result.samples += rows;
    }
    end.samples = result.samples;
    end.mean_loss = result.loss_sum / static_cast<double>(std::max<int64_t>(1, result.samples));
    on_batch_end(end);
    if ((result.stop = sync.after_batch())) step.discard_gradients();  // an unfinished window is dropped
  }
  result.micro_batch = stepper.micro_batch();
  result.loader_wait_seconds = pass->wait_seconds();
  result.mean_loss = result.samples > 0 ? result.loss_sum / static_cast<double>(result.samples) : NAN;
  result.seconds = seconds_since(start);
  return result;
}

namespace {

// The model's float32 predictions for `x` on the CPU, in pieces of pieces.rows (when set); on an out-of-memory
// error with on_oom: shrink, the caches are released, the pieces halved and the batch run again.
torch::Tensor predict_in_pieces(const Forward& forward, const PrecisionPlan& precision, torch::Device device,
                                const torch::Tensor& x, EvalPieces& pieces) {
  const int64_t rows = x.size(0);
  for (;;) {
    const int64_t piece = pieces.rows > 0 ? std::min(pieces.rows, rows) : rows;
    try {
      std::vector<torch::Tensor> out;
      for (int64_t start = 0; start < rows; start += piece) {
        if (std::exchange(pieces.inject_oom, false)) {
          device::compat::throw_out_of_memory("CPU out of memory (injected by debug.inject_eval_oom)");
        }
        AutocastScope autocast(precision, device);
        const auto part = to_device(x.narrow(0, start, std::min(piece, rows - start)), device);
        out.push_back(forward(part).to(torch::kFloat).to(torch::kCPU));
      }
      return out.size() == 1 ? out.front() : torch::cat(out);
    } catch (const c10::Error& e) {
      if (!is_out_of_memory(e) || pieces.on_oom != OnOom::shrink || piece <= 1) throw;
      monitor::release_cached_memory();
      pieces.rows = (piece + 1) / 2;
      log::warn(pieces.split, ": out of memory evaluating ", piece, " rows at once; from now on in pieces of ",
                pieces.rows, " (training.on_oom: shrink; the training batch is unchanged)");
    }
  }
}

}  // namespace

EvalPass evaluate(const EvalParts& parts, int64_t epoch, const std::function<bool()>& should_stop) {
  torch::NoGradGuard no_grad;
  parts.model.eval();
  parts.metrics.reset();
  parts.buffer.begin_epoch(epoch);
  EvalPass result;
  double loss_sum = 0.0;
  auto pass = parts.loader.epoch(0);
  while (auto batch = pass->next()) {
    const auto prediction_cpu = predict_in_pieces(parts.forward, parts.precision, parts.device, batch->x, parts.pieces);
    loss_sum += torch::mse_loss(prediction_cpu, batch->y, torch::Reduction::Sum).item<double>() /
                static_cast<double>(batch->y.size(1));
    result.samples += batch->y.size(0);
    // Metrics, buffers and plots are in the targets' own units.
    const auto prediction_units = parts.target_scaler.invert(prediction_cpu);
    const auto target_units = parts.target_scaler.invert(batch->y);
    parts.metrics.update(prediction_units, target_units);
    parts.buffer.add(prediction_units, target_units, batch->row_ids);
    if (should_stop && should_stop()) {
      result.interrupted = true;
      break;
    }
  }
  parts.model.train();
  result.loss_sum = loss_sum;
  result.loss = result.samples > 0 ? loss_sum / static_cast<double>(result.samples) : NAN;
  return result;
}

}  // namespace safetrain::train
