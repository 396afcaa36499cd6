// All-pairs scores from per-column feature blocks: Gram blocks F_a^T F_b, sized from the budget.
#include <algorithm>

#include "passes.hpp"

namespace safetrain::data::descriptors {
namespace {

// Two feature blocks and their Gram block, in bytes, for blocks of `columns` columns.
int64_t block_bytes(int64_t columns, int64_t m, int64_t width) {
  const int64_t features = m * columns * width * 4;
  return 2 * features + columns * width * columns * width * 4;
}

}  // namespace

std::vector<Edge> blocked_pair_scores(int64_t k, int64_t m, const FeatureScorer& scorer, WorkingSet& working) {
  // Half the budget for the blocks; the rest is the scorers' and the feature builders' own scratch.
  int64_t columns = k;
  while (columns > 1 && block_bytes(columns, m, scorer.width) > working.budget() / 2) columns = (columns + 1) / 2;
  std::vector<Edge> edges;
  for (int64_t a = 0; a < k; a += columns) {
    const int64_t ca = std::min(columns, k - a);
    Scratch counted_a(working, m * ca * scorer.width * 4);
    const auto fa = scorer.features(a, ca);
    for (int64_t b = a; b < k; b += columns) {
      const int64_t cb = std::min(columns, k - b);
      Scratch counted_b(working, b == a ? 0 : m * cb * scorer.width * 4);
      const auto fb = b == a ? fa : scorer.features(b, cb);
      Scratch counted_gram(working, ca * cb * scorer.width * scorer.width * 4);
      scorer.score(torch::mm(fa.t(), fb), a, b, edges);
    }
  }
  return edges;
}

}  // namespace safetrain::data::descriptors
