#pragma once
// Gradient averaging as DistributedDataParallel's reducer does it: the gradients are packed into a few
// flat buckets of about `bucket_mb` each (allocated once), one all-reduce per bucket, divided by the
// world size, and copied back - not one collective per parameter tensor.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "safetrain/dist/communicator.hpp"

namespace safetrain::dist {

struct BucketSlot {
  size_t parameter = 0;  // index into the parameter list
  int64_t offset = 0;    // elements into the bucket
  int64_t numel = 0;
};

// Parameters in order, a new bucket when the next one would pass `bucket_bytes` or changes dtype/device
// (a parameter larger than the cap gets a bucket of its own).
std::vector<std::vector<BucketSlot>> plan_buckets(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes);

class GradientBuckets {
 public:
  GradientBuckets(std::vector<torch::Tensor> parameters, int64_t bucket_bytes);
  // Replaces every gradient by its mean over the ranks. A parameter without a gradient joins as zeros
  // (every rank must send the same buckets) and gets that mean as its gradient.
  void average(Communicator& communicator);
  size_t bucket_count() const { return buckets_.size(); }
  int64_t bucket_bytes_total() const;

 private:
  std::vector<torch::Tensor> parameters_;
  std::vector<std::vector<BucketSlot>> plan_;
  std::vector<torch::Tensor> buckets_;  // flat, one per plan entry
};

}  // namespace safetrain::dist
