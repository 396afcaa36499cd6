#pragma once
// Merging the bounded output samples of data-parallel ranks without gathering every prediction: each
// rank keeps its own uniform reservoir of the rows it evaluated; rank 0 merges them into one uniform
// sample of the same cap over all rows, each part weighted by the rows it saw.
#include <cstdint>
#include <vector>

#include "safetrain/eval/output_buffer.hpp"

namespace safetrain::eval {

// How many of `capacity` rows drawn without replacement from all rows fall in each part (a
// multivariate hypergeometric draw over the parts' `seen` counts). Never more than a part saw.
std::vector<int64_t> draws_per_part(const std::vector<int64_t>& seen, int64_t capacity, uint64_t seed);

// One uniform sample of min(capacity, total seen) rows, sorted by row id: draws_per_part rows of each part,
// taken as a uniform subset of that part's own uniform sample. `seen` is the total; epoch is the first part's.
BufferedOutputs merge_samples(const std::vector<BufferedOutputs>& parts, int64_t capacity, uint64_t seed);

}  // namespace safetrain::eval
