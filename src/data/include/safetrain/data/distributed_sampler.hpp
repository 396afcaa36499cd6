#pragma once
// The rows one rank of a data-parallel run reads, as PyTorch's DistributedSampler chooses them: every
// rank draws the same permutation (seed and epoch), then takes the interleaved share order[rank::world].
// Training pads the order with its own head so every rank gets ceil(n / world) rows and takes the same
// number of steps; evaluation does not pad (exact metrics count every row once).
// Interleaving makes batch k of a W-rank run with batch B/W the union of the rows of batch k of a
// 1-rank run with batch B.
#include <torch/torch.h>

#include <cstdint>

namespace safetrain::data {

struct ShardOptions {
  int64_t rank = 0;
  int64_t world_size = 1;
  bool pad = true;  // repeat rows so every rank has the same count
};

int64_t shard_rows(int64_t rows, const ShardOptions& shard);
torch::Tensor shard_order(const torch::Tensor& order, const ShardOptions& shard);

}  // namespace safetrain::data
