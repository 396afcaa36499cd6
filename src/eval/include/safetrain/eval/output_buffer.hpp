#pragma once
// A bounded, CPU-resident store of per-sample outputs for the final plots and
// prediction files. It keeps a uniform reservoir sample (Algorithm R) of every
// row added during an epoch, never more than `capacity` rows, in storage
// allocated once. Kept rows are copies: no views, no autograd history.
#include <cstdint>
#include <random>

#include <torch/torch.h>

namespace safetrain::eval {

// Owned, detached CPU tensors: predictions/targets [n, dims] float32, row_ids [n] int64,
// sorted by row id. `seen` is how many rows the epoch offered in total.
struct BufferedOutputs {
  torch::Tensor predictions, targets, row_ids;
  int64_t epoch = -1;
  int64_t seen = 0;
  int64_t size() const { return row_ids.defined() ? row_ids.size(0) : 0; }
};

class OutputBuffer {
 public:
  // capacity 0 keeps nothing (metrics are unaffected). Throws std::invalid_argument on negatives.
  OutputBuffer(int64_t capacity, int64_t dims, uint64_t seed);

  // Clears (keeping the allocation) and reseeds from seed + epoch, so each epoch's sample is reproducible.
  void begin_epoch(int64_t epoch);
  // pred/target [n, dims] (or [n] when dims == 1), any device/dtype; row_ids [n] integer, or an
  // undefined tensor to number rows by their position in the epoch.
  void add(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& row_ids = {});
  void clear();

  int64_t size() const { return size_; }
  int64_t seen() const { return seen_; }
  int64_t capacity() const { return capacity_; }
  int64_t dims() const { return dims_; }
  int64_t epoch() const { return epoch_; }
  int64_t bytes() const;  // bytes held by the preallocated storage (constant)

  BufferedOutputs snapshot() const;

 private:
  int64_t draw_slot();  // reservoir slot for the row numbered seen_, or -1 to skip it

  int64_t capacity_, dims_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  torch::Tensor predictions_, targets_, row_ids_;
  int64_t size_ = 0, seen_ = 0, epoch_ = -1;
};

}  // namespace safetrain::eval
