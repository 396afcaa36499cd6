// One training epoch: forward under autocast, the loss, backward into the accumulation window, the optimizer
// step at the window's end; non-finite losses and out-of-memory errors end the step cleanly (or, with
// training.on_oom: shrink, the step is retried in smaller micro-batches: micro_batches.cpp).
#include <chrono>
#include <cmath>

#include "safetrain/common/log.hpp"
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

// A non-finite loss: counted and skipped (training.on_nan: skip, true) or the pass stops (false).
bool skip_non_finite(OnNan on_nan, int64_t epoch, int64_t b, TrainPass& result) {
  if (on_nan == OnNan::skip) {
    ++result.nan_skipped;
    log::warn("non-finite loss at epoch ", epoch + 1, " batch ", b + 1, ": batch skipped (training.on_nan: skip)");
    return true;
  }
  log::error("non-finite loss at epoch ", epoch + 1, " batch ", b + 1,
             ": stopping (training.on_nan: stop); the last good checkpoint is kept");
  result.stop = RunEnd::nan_loss;
  return false;
}

}  // namespace

int64_t planned_batches(const data::Loader& loader, const TrainLoopOptions& options) {
  const int64_t batches = loader.batches_per_epoch();
  return options.limit_batches > 0 ? std::min(batches, options.limit_batches) : batches;
}

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
  parts.optimizer.zero_grad();
  double loss_sum = 0.0;
  for (int64_t b = 0; b < batches && !result.stop; ++b) {
    auto batch = pass->next();
    if (!batch) break;
    BatchEnd end;
    end.epoch = epoch;
    end.batch = b + 1;
    end.batches = batches;
    try {
      const bool inject = b % accumulate == 0 && options.steps_before + result.steps + 1 == options.inject_oom_at_step;
      const auto outcome = stepper.run(*batch, window_size(b, batches, accumulate), inject);
      if (outcome.out_of_memory) {
        step.discard_gradients();
        result.stop = RunEnd::out_of_memory;
        break;
      }
      if (!outcome.finite) {
        if (!skip_non_finite(options.on_nan, epoch, b, result)) step.discard_gradients();
        if (result.stop) break;
        continue;
      }
      if ((b + 1) % accumulate == 0 || b + 1 == batches) {
        end.stepped = step.finish_window();
        end.grad_norm = step.last_gradient_norm();
        stepper.end_window();
        ++result.steps;
      }
      loss_sum += outcome.loss * static_cast<double>(batch->x.size(0));
      result.samples += batch->x.size(0);
    } catch (const c10::Error& e) {  // the optimizer step itself (its moments) ran out of memory
      if (!is_out_of_memory(e)) throw;
      step.discard_gradients();
      monitor::release_cached_memory();
      log::error("out of memory in the optimizer step: try a smaller model, or training.precision 16 on a GPU");
      result.stop = RunEnd::out_of_memory;
      break;
    }
    end.samples = result.samples;
    end.mean_loss = loss_sum / static_cast<double>(std::max<int64_t>(1, result.samples));
    on_batch_end(end);
    if ((result.stop = should_stop())) step.discard_gradients();  // an unfinished window is dropped
  }
  result.micro_batch = stepper.micro_batch();
  result.loader_wait_seconds = pass->wait_seconds();
  result.mean_loss = result.samples > 0 ? loss_sum / static_cast<double>(result.samples) : NAN;
  result.seconds = seconds_since(start);
  return result;
}

EvalPass evaluate(const Forward& forward, torch::nn::Module& model, const PrecisionPlan& precision,
                  torch::Device device, data::Loader& loader, const data::Standardizer& target_scaler,
                  eval::StreamingMetrics& metrics, eval::OutputBuffer& buffer, int64_t epoch,
                  const std::function<bool()>& should_stop) {
  torch::NoGradGuard no_grad;
  model.eval();
  metrics.reset();
  buffer.begin_epoch(epoch);
  EvalPass result;
  double loss_sum = 0.0;
  auto pass = loader.epoch(0);
  while (auto batch = pass->next()) {
    torch::Tensor prediction;
    {
      AutocastScope autocast(precision, device);
      prediction = forward(to_device(batch->x, device)).to(torch::kFloat);
    }
    const auto prediction_cpu = prediction.to(torch::kCPU);
    loss_sum += torch::mse_loss(prediction_cpu, batch->y, torch::Reduction::Sum).item<double>() /
                static_cast<double>(batch->y.size(1));
    result.samples += batch->y.size(0);
    // Metrics, buffers and plots are in the targets' own units.
    const auto prediction_units = target_scaler.invert(prediction_cpu);
    const auto target_units = target_scaler.invert(batch->y);
    metrics.update(prediction_units, target_units);
    buffer.add(prediction_units, target_units, batch->row_ids);
    if (should_stop && should_stop()) {
      result.interrupted = true;
      break;
    }
  }
  model.train();
  result.loss = result.samples > 0 ? loss_sum / static_cast<double>(result.samples) : NAN;
  return result;
}

}  // namespace safetrain::train
