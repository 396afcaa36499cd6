// Leiden communities through igraph on the |rho| >= threshold graph.
#include <igraph/igraph.h>

#include "passes.hpp"
#include "safetrain/common/error.hpp"

namespace safetrain::data::descriptors {
namespace {

// RAII owners for the igraph C objects used here.
struct RealVector {
  igraph_vector_t v;
  explicit RealVector(igraph_integer_t size) { igraph_vector_init(&v, size); }
  ~RealVector() { igraph_vector_destroy(&v); }
  RealVector(const RealVector&) = delete;
  RealVector& operator=(const RealVector&) = delete;
};
struct IntVector {
  igraph_vector_int_t v;
  explicit IntVector(igraph_integer_t size) { igraph_vector_int_init(&v, size); }
  ~IntVector() { igraph_vector_int_destroy(&v); }
  IntVector(const IntVector&) = delete;
  IntVector& operator=(const IntVector&) = delete;
};
struct Graph {
  igraph_t g;
  Graph(const IntVector& edges, igraph_integer_t vertices) {
    if (igraph_create(&g, &edges.v, vertices, IGRAPH_UNDIRECTED) != IGRAPH_SUCCESS) {
      throw std::runtime_error("descriptors: igraph_create failed");
    }
  }
  ~Graph() { igraph_destroy(&g); }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
};

}  // namespace

std::vector<int64_t> leiden_membership(int64_t k, const std::vector<Edge>& edge_list, double resolution,
                                       uint64_t seed) {
  IntVector edges(0);
  RealVector weights(0), strength(k);
  double total = 0.0;
  for (const auto& e : edge_list) {
    igraph_vector_int_push_back(&edges.v, e.a);
    igraph_vector_int_push_back(&edges.v, e.b);
    igraph_vector_push_back(&weights.v, e.score);
    VECTOR(strength.v)[e.a] += e.score;
    VECTOR(strength.v)[e.b] += e.score;
    total += e.score;
  }
  Graph graph(edges, k);
  IntVector membership(k);
  igraph_integer_t clusters = 0;
  igraph_real_t quality = 0;
  igraph_rng_seed(igraph_rng_default(), static_cast<igraph_uint_t>(seed));
  // Node weights = strengths and resolution / 2m turn Leiden's CPM objective into modularity
  // (the igraph documentation's recipe). A fixed iteration count: "until stable" (-1) can cycle
  // for ever on dense graphs of near-equal weights (seen on 300 columns of 0.95-correlated groups).
  constexpr igraph_integer_t kIterations = 10;
  const double gamma = total > 0 ? resolution / (2.0 * total) : resolution;
  if (igraph_community_leiden(&graph.g, &weights.v, &strength.v, gamma, 0.01, false, kIterations, &membership.v,
                              &clusters, &quality) != IGRAPH_SUCCESS) {
    throw std::runtime_error("descriptors: igraph_community_leiden failed");
  }
  std::vector<int64_t> out(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) out[static_cast<size_t>(i)] = VECTOR(membership.v)[i];
  return out;
}

std::vector<int64_t> leiden_membership(const torch::Tensor& rho, double threshold, double resolution, uint64_t seed) {
  return leiden_membership(rho.size(0), edges_at_or_above(rho, threshold), resolution, seed);
}

}  // namespace safetrain::data::descriptors
