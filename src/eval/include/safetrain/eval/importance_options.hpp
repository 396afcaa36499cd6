#pragma once
// Settings of the permutation importance written at the end of a run (config section `importance`).
// LibTorch-free so the config library can hold them.
#include <cstdint>

namespace safetrain::eval {

struct ImportanceOptions {
  bool enabled = true;
  int64_t max_rows = 2000;   // rows sampled from the validation split (all rows when the split is smaller)
  int64_t repeats = 3;       // shuffles per feature; mean and std are over these
  int64_t batch_rows = 512;  // rows per predict() call: the memory bound with the sample
  uint64_t seed = 0;         // row sample and shuffles (the run's seed; not a key of its own)
};

}  // namespace safetrain::eval
