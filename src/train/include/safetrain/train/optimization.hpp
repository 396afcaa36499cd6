#pragma once
// Optimizer construction, the per-epoch learning-rate schedule (with linear
// warm-up) and early stopping. Schedules step once per epoch, as Lightning's
// default `interval: epoch` does.
#include <torch/torch.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/train/training_options.hpp"

namespace safetrain::train {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainingOptions& training,
                                                        std::vector<torch::Tensor> parameters);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);
double learning_rate(const torch::optim::Optimizer& optimizer);
// Bytes of the per-parameter state of an optimizer make_optimizer built (Adam's and AdamW's moments, SGD's
// momentum): LibTorch's state classes expose their tensors only on the concrete type, so the one place that
// knows which optimizers exist reads them.
int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer);

// Lower-is-better metric tracking shared by the plateau schedule and early stopping.
struct ImprovementTracker {
  double best = std::numeric_limits<double>::infinity();
  int64_t bad_checks = 0;
  // True when `value` beats the best by more than min_delta (and records it).
  bool observe(double value, double min_delta);
  nlohmann::json state_dict() const;  // an infinite best is stored as null (JSON has no infinity)
  void load_state_dict(const nlohmann::json& state);
};

class LearningRateSchedule {
 public:
  explicit LearningRateSchedule(const TrainingOptions& training);
  // Learning rate for (0-based) `epoch`.
  double lr_for_epoch(int64_t epoch) const;
  // Plateau only: feed the monitored metric after a validation.
  void observe_metric(double value);

  struct State { ImprovementTracker tracker; int64_t reductions = 0; };
  State state() const { return state_; }
  void load_state(const State& state) { state_ = state; }

 private:
  TrainingOptions training_;
  State state_;
};

class EarlyStopping {
 public:
  EarlyStopping(bool enabled, int64_t patience, double min_delta);
  // Returns true when this value is a new best.
  bool observe(double value);
  bool should_stop() const { return enabled_ && tracker_.bad_checks >= patience_; }
  ImprovementTracker state() const { return tracker_; }
  void load_state(const ImprovementTracker& state) { tracker_ = state; }

 private:
  bool enabled_;
  int64_t patience_;
  double min_delta_;
  ImprovementTracker tracker_;
};

}  // namespace safetrain::train
