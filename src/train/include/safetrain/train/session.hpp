#pragma once
// A training run: setup (data, model, optimizer, callbacks, monitor, resume),
// epochs of train + validate, the final test, and the end-of-training stage.
// `run()` is what `trainer` does; memleak_check drives `run_epoch` directly.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "safetrain/config/config.hpp"
#include "safetrain/train/callback.hpp"

namespace safetrain::train {

struct SessionOptions {
  std::filesystem::path run_dir;                // empty: create one under output.dir
  std::optional<std::filesystem::path> resume;  // a checkpoint directory (RUN_DIR/checkpoints/last)
  bool write_final_stage = true;                // plots, predictions, metrics.json
};

struct EpochResult {
  EpochRecord record;
  int64_t val_buffer_bytes = 0;
  int64_t val_buffer_size = 0;
  std::optional<RunEnd> stop;  // set when the epoch ended the run
};

struct RunOutcome {
  RunEnd end = RunEnd::completed;
  std::filesystem::path run_dir;
  int64_t epochs_completed = 0;
  double best_metric = 0;
  std::string summary;  // the final line printed on stdout (by rank 0 of a data-parallel run)
  bool is_writer = true;  // false on the other ranks of a data-parallel run
  int exit_code() const;
};

class TrainingSession {
 public:
  TrainingSession(config::Config config, SessionOptions options);
  ~TrainingSession();
  TrainingSession(const TrainingSession&) = delete;
  TrainingSession& operator=(const TrainingSession&) = delete;

  void setup();
  // Adds a callback after the built-in ones (call before run()).
  void add_callback(std::unique_ptr<Callback> callback);
  EpochResult run_epoch(int64_t epoch, bool validate);
  RunOutcome run();
  const std::filesystem::path& run_dir() const;

  struct State;  // defined in session_state.hpp

 private:
  // Why the pass was cut short (a signal, an alarm, out of memory), or nothing when the epoch's validation is recorded.
  std::optional<RunEnd> validate_epoch(EpochRecord& record);
  // The kept model (checkpoints/best) for everything final: validation again when best is not the last
  // validated epoch, then the test. Returns the kept epoch.
  int64_t load_kept_weights();
  int64_t validate_kept_model();
  void run_test(int64_t kept_epoch);
  std::unique_ptr<State> state_;
};

}  // namespace safetrain::train
