#include "safetrain/eval/sample_merge.hpp"

#include <random>
#include <stdexcept>

namespace safetrain::eval {

std::vector<int64_t> draws_per_part(const std::vector<int64_t>& seen, int64_t capacity, uint64_t seed) {
  std::vector<int64_t> remaining = seen, draws(seen.size(), 0);
  int64_t total = 0;
  for (const int64_t s : seen) total += s;
  std::mt19937_64 rng(seed);
  for (int64_t k = 0; k < capacity && total > 0; ++k) {
    // Row k of the merged sample comes from part i with probability remaining_i / total (no replacement).
    const auto pick = static_cast<int64_t>((static_cast<unsigned __int128>(rng()) * static_cast<uint64_t>(total)) >> 64);
    int64_t cumulative = 0;
    for (size_t i = 0; i < remaining.size(); ++i) {
      cumulative += remaining[i];
      if (pick < cumulative) {
        --remaining[i];
        ++draws[i];
        break;
      }
    }
    --total;
  }
  return draws;
}

BufferedOutputs merge_samples(const std::vector<BufferedOutputs>& parts, int64_t capacity, uint64_t seed) {
  if (parts.empty()) throw std::invalid_argument("merge_samples: no parts");
  std::vector<int64_t> seen;
  for (const auto& p : parts) seen.push_back(p.seen);
  const auto draws = draws_per_part(seen, capacity, seed);
  std::vector<torch::Tensor> predictions, targets, ids;
  auto generator = at::detail::createCPUGenerator(seed ^ 0x9e3779b97f4a7c15ULL);
  BufferedOutputs out;
  out.epoch = parts.front().epoch;
  for (size_t i = 0; i < parts.size(); ++i) {
    out.seen += parts[i].seen;
    if (draws[i] == 0) continue;
    if (draws[i] > parts[i].size()) throw std::invalid_argument("merge_samples: a part kept fewer rows than drawn");
    // A uniform subset of a uniform sample is a uniform sample of the part.
    const auto pick = torch::randperm(parts[i].size(), generator, torch::kLong).narrow(0, 0, draws[i]);
    predictions.push_back(parts[i].predictions.index_select(0, pick));
    targets.push_back(parts[i].targets.index_select(0, pick));
    ids.push_back(parts[i].row_ids.index_select(0, pick));
  }
  if (ids.empty()) {
    out.predictions = parts.front().predictions.narrow(0, 0, 0).clone();
    out.targets = parts.front().targets.narrow(0, 0, 0).clone();
    out.row_ids = parts.front().row_ids.narrow(0, 0, 0).clone();
    return out;
  }
  const auto all_ids = torch::cat(ids);
  const auto order = std::get<1>(all_ids.sort());
  out.row_ids = all_ids.index_select(0, order);
  out.predictions = torch::cat(predictions).index_select(0, order);
  out.targets = torch::cat(targets).index_select(0, order);
  return out;
}

}  // namespace safetrain::eval
