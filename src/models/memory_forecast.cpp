#include "safetrain/models/memory_forecast.hpp"

#include <algorithm>

#include "safetrain/common/error.hpp"

namespace safetrain::models {
namespace {

constexpr int64_t kMB = 1024 * 1024;
// Measured, not derived (bench/memory_footprint.py --check-estimate, 2 cores, pip LibTorch 2.11): what
// the first step touches and the run keeps; mostly LibTorch's code paged in (file-backed: 11.8 MB of the MLP's
// 13.5 MB above the data before its first step), then the thread pools' buffers and glibc's arenas.
constexpr int64_t kComputeWorkingBytes = 20 * kMB;
constexpr int64_t kFloatBytes = 4;
constexpr int64_t kRowIdBytes = 8;
// glibc serves a block below its mmap threshold from a heap and keeps freed memory at the heap's top up to
// its trim threshold. Both thresholds rise with the largest block freed (mmap: that block, at most 32 MB on
// 64-bit; trim: twice it), so after a training step each arena that allocated tensors (the main thread's, the
// intra-op worker's, the loader workers') may keep up to two of the largest blocks. Measured, in the phases
// after the first step: +2 MB for the MLP at batch 64, +1 to +10 MB at batch 1024 (1 MB blocks), +18 to +25 MB
// for the d512 transformer (4 MB feed-forward weights) whatever its batch: about six blocks.
constexpr int64_t kRetainedLargestBlocks = 6;
constexpr int64_t kLargestDynamicThreshold = 32 * kMB;
constexpr int64_t kImportancePassCopies = 2;

struct Parts {
  int64_t data = 0, state = 0, parameters = 0, gradients = 0, step = 0, train_activations = 0, eval_activations = 0;
  int64_t loader = 0, outputs = 0, importance = 0, descriptors = 0, retained = 0;
};

Parts parts_of(const ModelSpec& spec, const TableShape& table, const ForecastSettings& s) {
  const int64_t row_bytes = (table.features + table.targets) * kFloatBytes;
  const auto training = estimate_memory(spec, s.batch_size, s.optimizer, s.precision, true);
  const auto inference = estimate_memory(spec, s.batch_size, s.optimizer, s.precision, false);
  Parts p;
  p.data = table.rows * (row_bytes + kRowIdBytes);
  p.state = training.parameter_bytes + training.gradient_bytes + training.optimizer_bytes + training.workspace_bytes;
  // The optimizer step's per-parameter temporaries (Adam's denominator, clipping's scaled copy): about
  // one more copy of the weights while it runs.
  p.step = training.parameter_bytes;
  p.parameters = training.parameter_bytes;
  p.gradients = training.gradient_bytes;
  p.retained = s.on_cuda ? 0 : kRetainedLargestBlocks * std::min(largest_tensor_bytes(spec, s.batch_size), kLargestDynamicThreshold);
  p.train_activations = training.activation_bytes;
  p.eval_activations = inference.activation_bytes;
  p.loader = s.loader_batches * s.batch_size * row_bytes;
  p.outputs = s.kept_outputs * table.targets * 2 * kFloatBytes;  // prediction and truth per kept row
  if (s.importance) {
    // Batches bounded by a training step's activations and largest tensor (inference_rows_within_training),
    // each a shuffled copy. Measured, a batch's forward pass held about twice the inference activation count
    // (the d512 transformer at 32 rows: +25 to +36 MB for a count of 15 MB).
    const int64_t rows = std::min(s.importance_rows, inference_rows_within_training(spec, s.batch_size, s.precision));
    p.importance = rows * (row_bytes + kImportancePassCopies * inference.activation_bytes / std::max<int64_t>(1, s.batch_size));
  }
  if (s.pruner_scratch > 0) {  // it reads a copy of the training rows
    p.descriptors = static_cast<int64_t>(static_cast<double>(p.data) * s.train_fraction) + s.pruner_scratch;
  }
  return p;
}

PhaseForecast phase(const std::string& name, int64_t host, int64_t device, std::string held) {
  return {name, host, device, std::move(held)};
}

}  // namespace

const PhaseForecast& MemoryForecast::largest_host() const {
  return *std::max_element(phases.begin(), phases.end(),
                           [](const auto& a, const auto& b) { return a.host_bytes < b.host_bytes; });
}

const PhaseForecast& MemoryForecast::largest_device() const {
  return *std::max_element(phases.begin(), phases.end(),
                           [](const auto& a, const auto& b) { return a.device_bytes < b.device_bytes; });
}

std::vector<std::string> MemoryForecast::lines() const {
  std::vector<std::string> out;
  for (const auto& p : phases) {
    std::string line = p.phase + " ~" + format_mb(p.host_bytes) + " host";
    if (p.device_bytes > 0) line += ", ~" + format_mb(p.device_bytes) + " device";
    out.push_back(line + " (" + p.held + ")");
  }
  return out;
}

namespace {

// After training (train/final_stage.cpp release_training_state) the gradients, the optimizer's moments and the
// training split are gone; the test reloads the best checkpoint, whose read buffer is given back before the
// test (session_run.cpp), and importance's batches are given back before the plot stage goes on.
void add_final_stage(MemoryForecast& f, const Parts& p, const ForecastSettings& s, const std::string& eval_held) {
  const int64_t eval_data = static_cast<int64_t>(static_cast<double>(p.data) * (1.0 - s.train_fraction));
  const int64_t weights = s.on_cuda ? 0 : p.parameters;
  const int64_t host_eval = s.on_cuda ? 0 : p.eval_activations;
  const int64_t final_held = eval_data + weights + kComputeWorkingBytes;
  const std::string final_parts = "validation and test data " + format_mb(eval_data) + " + weights " + format_mb(p.parameters) +
                                  " + compute buffers " + format_mb(kComputeWorkingBytes);
  const int64_t test = final_held + host_eval + p.loader + p.outputs;
  const int64_t device_weights = s.on_cuda ? p.parameters : 0;
  f.phases.push_back(phase("test", test + p.retained, s.on_cuda ? 2 * p.parameters + p.eval_activations : 0,
                           final_parts + eval_held));
  const std::string plotting = " + plotting " + format_mb(kPlottingBytes);
  const PhaseForecast plot = phase("plot", test + p.retained + kPlottingBytes, device_weights, final_parts + eval_held + plotting);
  f.phases.push_back(plot);
  if (s.importance) {  // inside the plot stage, after the figures, in memory the test and the plots freed
    const int64_t batches = final_held + p.retained + kPlottingBytes + p.importance;
    f.phases.push_back(phase("importance", std::max(plot.host_bytes, batches), device_weights + (s.on_cuda ? p.importance : 0),
                             final_parts + " + kept free blocks " + format_mb(p.retained) + plotting + " + batches " +
                                 format_mb(p.importance)));
  }
}

}  // namespace

MemoryForecast forecast_memory(const ModelSpec& spec, const TableShape& table, const ForecastSettings& s) {
  if (table.rows < 0 || table.features < 0 || table.targets < 0) throw InputError("memory forecast: negative table shape");
  const Parts p = parts_of(spec, table, s);
  // The host holds the model and its batches too unless they live on the GPU.
  const int64_t host_model = s.on_cuda ? 0 : p.state;
  const int64_t host_train = s.on_cuda ? 0 : p.train_activations;
  const int64_t host_eval = s.on_cuda ? 0 : p.eval_activations;
  const int64_t device_state = s.on_cuda ? p.state : 0;
  const std::string data = "data " + format_mb(p.data) + (s.mapped ? " (file pages, reclaimable)" : "");
  const std::string state = " + model state " + format_mb(host_model) + " + compute buffers " + format_mb(kComputeWorkingBytes);
  MemoryForecast f;
  f.data_bytes = p.data;
  f.phases.push_back(phase("load", p.data + s.reader_bytes + s.staged_row_group, 0,
                           data + " + reader " + format_mb(s.reader_bytes) +
                               (s.staged_row_group > 0 ? " + a Parquet row group " + format_mb(s.staged_row_group) : "")));
  if (p.descriptors > 0) {
    f.phases.push_back(phase("descriptors", p.data + p.descriptors, 0,
                             data + " + training rows and pruner scratch " + format_mb(p.descriptors)));
  }
  const int64_t held = p.data + host_model + kComputeWorkingBytes;  // from the first step to the end
  const int64_t step = s.on_cuda ? 0 : p.step;
  // The blocks the heap keeps between steps are the step's own, reused by the next (kRetainedLargestBlocks).
  f.phases.push_back(phase("train", held + std::max(step + host_train, p.retained) + p.loader,
                           device_state + (s.on_cuda ? p.step + p.train_activations : 0),
                           data + state + " + step " + format_mb(p.step) + " + activations " + format_mb(p.train_activations) +
                               " + loader " + format_mb(p.loader)));
  // Between steps the gradients are gone (zero_grad sets them to none after every optimizer step); the heap
  // keeps the free blocks of the step (kRetainedLargestBlocks).
  const int64_t host_gradients = s.on_cuda ? 0 : p.gradients;
  const int64_t eval_device = s.on_cuda ? device_state + p.eval_activations : 0;
  const std::string eval_held = " + activations " + format_mb(p.eval_activations) + " + kept outputs " + format_mb(p.outputs) +
                                " + kept free blocks " + format_mb(p.retained);
  const PhaseForecast validate = phase("validate", held - host_gradients + host_eval + p.loader + p.outputs + p.retained,
                                       eval_device, data + state + " - gradients " + format_mb(host_gradients) + eval_held);
  f.phases.push_back(validate);
  // At the epoch's end, after validation, holding what it holds; tensors are streamed to the file one at a
  // time (infer/checkpoint.cpp), so the write itself adds no whole-model buffer.
  f.phases.push_back(phase("checkpoint", validate.host_bytes, validate.device_bytes, validate.held + " + streamed write"));
  add_final_stage(f, p, s, eval_held);
  return f;
}

int64_t largest_batch_within(const ModelSpec& spec, const TableShape& table, ForecastSettings settings,
                             int64_t budget_bytes) {
  const auto peak = [&](int64_t batch) {
    settings.batch_size = batch;
    const auto f = forecast_memory(spec, table, settings);
    return settings.on_cuda ? f.largest_device().device_bytes : f.largest_host().host_bytes;
  };
  if (peak(1) > budget_bytes) return 0;
  int64_t low = 1, high = 2;
  while (high < (int64_t{1} << 24) && peak(high) <= budget_bytes) { low = high; high *= 2; }
  while (high - low > 1) {  // the forecast grows with the batch: bisect between a fit and a miss
    const int64_t mid = low + (high - low) / 2;
    (peak(mid) <= budget_bytes ? low : high) = mid;
  }
  return low;
}

}  // namespace safetrain::models
