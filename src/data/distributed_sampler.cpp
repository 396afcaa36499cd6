#include "safetrain/data/distributed_sampler.hpp"

#include <stdexcept>

namespace safetrain::data {

int64_t shard_rows(int64_t rows, const ShardOptions& s) {
  if (s.world_size <= 1) return rows;
  if (s.pad) return (rows + s.world_size - 1) / s.world_size;
  return rows / s.world_size + (s.rank < rows % s.world_size ? 1 : 0);
}

torch::Tensor shard_order(const torch::Tensor& order, const ShardOptions& s) {
  if (s.world_size <= 1) return order;
  if (s.rank < 0 || s.rank >= s.world_size) throw std::invalid_argument("shard_order: rank outside the world");
  const int64_t rows = order.size(0);
  torch::Tensor full = order;
  if (s.pad && rows > 0) {
    const int64_t padded = shard_rows(rows, s) * s.world_size;
    // The head again (several times over when the rows are fewer than the ranks).
    const int64_t copies = (padded + rows - 1) / rows;
    full = order.repeat({copies}).narrow(0, 0, padded);
  }
  return full.slice(0, s.rank, full.size(0), s.world_size).contiguous();
}

}  // namespace safetrain::data
