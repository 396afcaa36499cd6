// All-pairs scores from per-column feature blocks: Gram blocks F_a^T F_b, sized from the budget.
#include <algorithm>

#include "passes.hpp"

namespace safetrain::data::descriptors {
namespace {

// A Gram block larger than this makes the product no faster (OpenBLAS is near full speed on 1,000-wide
// blocks) and only raises the peak: a small table stays small whatever descriptors.max_working_mb allows.
constexpr int64_t kGramBlockBytes = int64_t{4} << 20;

// Two feature blocks and their Gram block, in bytes, for blocks of `columns` columns.
int64_t block_bytes(int64_t columns, int64_t m, int64_t width) {
  const int64_t features = m * columns * width * 4;
  return 2 * features + columns * width * columns * width * 4;
}

}  // namespace

std::vector<Edge> blocked_pair_scores(int64_t k, int64_t m, const FeatureScorer& scorer, WorkingSet& working) {
  // Features of every column built once when they fit a quarter of the budget; then blocks only
  // bound the Gram block, and >= 4 blocks let the upper triangle skip a third of the product.
  const int64_t all_bytes = m * k * scorer.width * 4;
  const bool cached = all_bytes <= working.budget() / 4;
  Scratch counted_all(working, cached ? all_bytes : 0);
  const auto all = cached ? scorer.features(0, k) : torch::Tensor();
  int64_t columns = cached && k >= 256 ? (k + 3) / 4 : k;
  auto bytes = [&](int64_t c) {
    return cached ? c * scorer.width * c * scorer.width * 4 : block_bytes(c, m, scorer.width);
  };
  // Half the budget for the blocks; the rest is the scorers' and the feature builders' own scratch.
  while (columns > 1 && (bytes(columns) > working.budget() / 2 - (cached ? all_bytes : 0) ||
                         columns * scorer.width * columns * scorer.width * 4 > kGramBlockBytes)) {
    columns = (columns + 1) / 2;
  }
  auto features = [&](int64_t first, int64_t count) {
    return cached ? all.narrow(1, first * scorer.width, count * scorer.width) : scorer.features(first, count);
  };
  std::vector<Edge> edges;
  for (int64_t a = 0; a < k; a += columns) {
    const int64_t ca = std::min(columns, k - a);
    Scratch counted_a(working, cached ? 0 : m * ca * scorer.width * 4);
    const auto fa = features(a, ca);
    for (int64_t b = a; b < k; b += columns) {
      const int64_t cb = std::min(columns, k - b);
      Scratch counted_b(working, b == a || cached ? 0 : m * cb * scorer.width * 4);
      const auto fb = b == a ? fa : features(b, cb);
      Scratch counted_gram(working, ca * cb * scorer.width * scorer.width * 4);
      scorer.score(torch::mm(fa.t(), fb), a, b, edges);
    }
  }
  return edges;
}

}  // namespace safetrain::data::descriptors
