#pragma once
// logging.tensorboard: a sink writing each epoch's record as TensorBoard scalars, tag = the figure's name
// (val_mae/<target> per target), step = the epoch, under RUN_DIR/tensorboard; with logging.tensorboard_step_loss
// also each optimizer step's training loss (train_loss_step, step = optimizer steps) under
// RUN_DIR/tensorboard/steps, a run of its own since its x axis differs. One new event file per session,
// flushed at each epoch's end, so a crash loses at most the epoch in progress and --resume never rewrites a file.
#include <memory>

#include "safetrain/tensorboard/event_file_writer.hpp"
#include "safetrain/train/callback.hpp"

namespace safetrain::train {

class TensorBoardCallback : public Callback {
 public:
  explicit TensorBoardCallback(const LoggingOptions& logging) : step_loss_(logging.tensorboard_step_loss) {}
  std::string name() const override { return "tensorboard"; }
  void on_fit_start(FitContext& c) override;
  void on_train_epoch_start(FitContext& c, EpochRecord&) override;
  void on_train_batch_end(FitContext&, const BatchEnd& batch) override;
  void log_metrics(FitContext&, const EpochRecord& record) override;
  void on_fit_end(FitContext&, RunEnd) override;

 private:
  bool step_loss_;
  std::unique_ptr<tensorboard::EventFileWriter> epochs_, steps_;
  int64_t step_ = 0;  // optimizer steps taken, the x axis of train_loss_step
  double window_loss_ = 0;  // the batches' losses since the last step
  int64_t window_batches_ = 0;
};

}  // namespace safetrain::train
