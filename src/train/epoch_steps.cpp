// The inner loops: one training epoch and one evaluation pass.
#include <chrono>
#include <cmath>

#include "safetrain/common/log.hpp"
#include "safetrain/monitor/trim.hpp"
#include "safetrain/train/device.hpp"
#include "safetrain/train/optimizer_step.hpp"
#include "session_state.hpp"
#include "safetrain/train/stop_signals.hpp"

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

void trim_memory(TrainingSession::State& s) {
  monitor::release_cached_memory();
  s.batches_since_trim = 0;
}

TrainPass train_one_epoch(TrainingSession::State& s, int64_t epoch) {
  const auto start = std::chrono::steady_clock::now();
  const auto& t = s.config.training;
  TrainPass result;
  s.model->train();
  auto pass = s.train_loader->epoch(epoch);
  int64_t batches = s.train_loader->batches_per_epoch();
  if (t.limit_train_batches > 0) batches = std::min(batches, t.limit_train_batches);
  std::vector<torch::Tensor> parameters = s.model->parameters();
  OptimizerStep step(parameters, *s.optimizer, *s.scaler,
                     {t.accumulate_grad_batches, t.gradient_clip_val, t.gradient_clip_algorithm});
  s.optimizer->zero_grad();
  s.progress->begin_epoch(epoch, batches);

  double loss_sum = 0.0;
  for (int64_t b = 0; b < batches; ++b) {
    auto batch = pass->next();
    if (!batch) break;
    const int64_t rows = batch->x.size(0);
    try {
      const auto x = to_device(batch->x, s.device);
      const auto y = to_device(batch->y, s.device);
      torch::Tensor loss;
      {
        AutocastScope autocast(s.precision, s.device);
        loss = torch::mse_loss(s.model->forward(x).to(torch::kFloat), y);
      }
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        if (t.on_nan == "skip") {
          ++s.progress_state.nan_skipped;
          log::warn("non-finite loss at epoch ", epoch + 1, " batch ", b + 1, ": batch skipped (training.on_nan: skip; ",
                    s.progress_state.nan_skipped, " so far)");
          continue;
        }
        log::error("non-finite loss at epoch ", epoch + 1, " batch ", b + 1,
                   ": stopping (training.on_nan: stop); the last good weights are kept");
        step.discard_gradients();
        result.stop = RunEnd::nan_loss;
        break;
      }
      step.backward(loss, window_size(b, batches, t.accumulate_grad_batches));
      if ((b + 1) % t.accumulate_grad_batches == 0 || b + 1 == batches) {
        step.finish_window();
        ++s.progress_state.global_step;
      }
      loss_sum += loss_value * static_cast<double>(rows);
      result.samples += rows;
    } catch (const c10::Error& e) {
      if (!is_out_of_memory(e)) throw;
      step.discard_gradients();
      trim_memory(s);
      log::error("out of memory in a training step at batch_size ", t.batch_size,
                 ": try a smaller training.batch_size with training.accumulate_grad_batches to keep the effective "
                 "batch, or training.precision 16 on a GPU");
      result.stop = RunEnd::out_of_memory;
      break;
    }
    if (s.config.memory.empty_cache_every_n_batches > 0 &&
        ++s.batches_since_trim >= s.config.memory.empty_cache_every_n_batches) {
      trim_memory(s);
    }
    s.progress->step(b + 1, loss_sum / static_cast<double>(std::max<int64_t>(1, result.samples)), result.samples);
    if (StopSignals::requested()) {
      // Finish at a step boundary: gradients of an unfinished window are dropped, not applied.
      step.discard_gradients();
      result.stop = RunEnd::signal;
      break;
    }
    if (s.monitor && s.monitor->stop_requested()) {
      step.discard_gradients();
      result.stop = RunEnd::memory_alarm;
      break;
    }
  }
  result.loader_wait_seconds = pass->wait_seconds();
  result.mean_loss = result.samples > 0 ? loss_sum / static_cast<double>(result.samples) : std::nan("");
  result.seconds = seconds_since(start);
  return result;
}

EvalPass evaluate(TrainingSession::State& s, data::Loader& loader, eval::StreamingMetrics& metrics,
                  eval::OutputBuffer& buffer, int64_t epoch) {
  torch::NoGradGuard no_grad;
  s.model->eval();
  metrics.reset();
  buffer.begin_epoch(epoch);
  const auto& scaler = s.data.target_scaler;
  double loss_sum = 0.0;
  int64_t samples = 0;
  auto pass = loader.epoch(0);
  while (auto batch = pass->next()) {
    torch::Tensor prediction;
    {
      AutocastScope autocast(s.precision, s.device);
      prediction = s.model->forward(to_device(batch->x, s.device)).to(torch::kFloat);
    }
    const auto prediction_cpu = prediction.to(torch::kCPU);
    loss_sum += torch::mse_loss(prediction_cpu, batch->y, torch::Reduction::Sum).item<double>() /
                static_cast<double>(batch->y.size(1));
    samples += batch->y.size(0);
    // Metrics, buffers and plots are in the targets' own units.
    const auto prediction_units = scaler.invert(prediction_cpu);
    const auto target_units = scaler.invert(batch->y);
    metrics.update(prediction_units, target_units);
    buffer.add(prediction_units, target_units, batch->row_ids);
  }
  s.model->train();
  return {samples > 0 ? loss_sum / static_cast<double>(samples) : std::nan(""), samples};
}

}  // namespace safetrain::train
