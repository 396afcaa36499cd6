#pragma once
// A training run: setup (data, model, optimizer, monitor, resume), epochs of
// train + validate, the final test, and the end-of-training stage. `run()`
// is what `trainer` does; memleak_check drives `run_epoch` directly.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "safetrain/train/config.hpp"

namespace safetrain::train {

enum class RunEnd { completed, early_stopped, signal, nan_loss, out_of_memory, memory_alarm };
const char* run_end_name(RunEnd end);

struct SessionOptions {
  std::filesystem::path run_dir;                 // empty: create one under output.dir
  std::optional<std::filesystem::path> resume;   // a checkpoint directory (RUN_DIR/checkpoints/last)
  bool write_final_stage = true;                 // plots, predictions, metrics.json
};

struct EpochResult {
  double train_loss = 0;
  std::optional<double> val_loss;
  double seconds = 0;
  double samples_per_s = 0;
  int64_t val_buffer_bytes = 0;
  int64_t val_buffer_size = 0;
  std::optional<RunEnd> stop;   // set when the epoch ended the run
};

struct RunOutcome {
  RunEnd end = RunEnd::completed;
  std::filesystem::path run_dir;
  int64_t epochs_completed = 0;
  double best_metric = 0;
  std::string summary;   // the final line printed on stdout
  int exit_code() const;
};

class TrainingSession {
 public:
  TrainingSession(Config config, SessionOptions options);
  ~TrainingSession();
  TrainingSession(const TrainingSession&) = delete;
  TrainingSession& operator=(const TrainingSession&) = delete;

  void setup();
  EpochResult run_epoch(int64_t epoch, bool validate);
  RunOutcome run();
  const std::filesystem::path& run_dir() const;

  struct State;  // defined in session_state.hpp

 private:
  std::unique_ptr<State> state_;
};

}  // namespace safetrain::train
