// Pass 2: Spearman correlation, Leiden communities (igraph), representatives, sweep.
#include <igraph/igraph.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "passes.hpp"
#include "safetrain/common/log.hpp"

namespace safetrain::data::descriptors {

torch::Tensor average_ranks(const torch::Tensor& values) {
  const auto k = values.size(0), n = values.size(1);
  auto ranks = torch::empty({k, n}, torch::kFloat);
  const auto sorted = values.to(torch::kFloat).sort(1);  // NaN sorts last
  const auto order = std::get<1>(sorted).contiguous();
  const auto sorted_values = std::get<0>(sorted).contiguous();
  float* out = ranks.data_ptr<float>();
  const int64_t* idx = order.data_ptr<int64_t>();
  const float* v = sorted_values.data_ptr<float>();
  for (int64_t row = 0; row < k; ++row) {
    const int64_t base = row * n;
    int64_t valid = 0;
    while (valid < n && !std::isnan(v[base + valid])) ++valid;
    for (int64_t start = 0; start < valid;) {
      int64_t end = start + 1;
      while (end < valid && v[base + end] == v[base + start]) ++end;
      const float rank = 0.5f * static_cast<float>(start + 1 + end);  // mean of ranks start+1..end
      for (int64_t i = start; i < end; ++i) out[base + idx[base + i]] = rank;
      start = end;
    }
    // Missing cells take the mean rank: they add no correlation in either direction.
    const float middle = 0.5f * static_cast<float>(valid + 1);
    for (int64_t i = valid; i < n; ++i) out[base + idx[base + i]] = middle;
  }
  return ranks;
}

torch::Tensor spearman_matrix(const torch::Tensor& values, int64_t block, bool prefer_gpu) {
  auto z = average_ranks(values).to(torch::kDouble);
  z = z - z.mean(1, true);
  z = z / z.norm(2, 1, true).clamp_min(1e-12);
  torch::Device device(torch::kCPU);
  if (prefer_gpu) {
    if (torch::cuda::is_available()) device = torch::Device(torch::kCUDA);
    else log::info("descriptors: --prefer-gpu without a usable CUDA device; ranks multiplied on the CPU");
  }
  z = z.to(device);
  const int64_t k = z.size(0);
  auto rho = torch::empty({k, k}, torch::kDouble);
  // Row blocks keep the product's working set at block x k however wide the table is.
  for (int64_t start = 0; start < k; start += block) {
    const int64_t rows = std::min(block, k - start);
    rho.narrow(0, start, rows).copy_(torch::mm(z.narrow(0, start, rows), z.t()).to(torch::kCPU));
  }
  return rho.clamp(-1.0, 1.0);
}

bool Informativeness::better(int64_t a, int64_t b) const {
  const auto ua = static_cast<size_t>(a), ub = static_cast<size_t>(b);
  if (std::abs(target_rho[ua] - target_rho[ub]) > 1e-9) return target_rho[ua] > target_rho[ub];
  if (std::abs(missing_fraction[ua] - missing_fraction[ub]) > 1e-12) return missing_fraction[ua] < missing_fraction[ub];
  return a < b;
}

namespace {

std::vector<int64_t> leiden_membership(const torch::Tensor& rho, double threshold, double resolution, uint64_t seed) {
  const int64_t k = rho.size(0);
  const auto absolute = rho.abs().to(torch::kDouble).contiguous();
  const auto a = absolute.accessor<double, 2>();
  igraph_vector_int_t edges;
  igraph_vector_t weights, strength;
  igraph_vector_int_init(&edges, 0);
  igraph_vector_init(&weights, 0);
  igraph_vector_init(&strength, k);
  double total = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = i + 1; j < k; ++j) {
      const double w = a[i][j];
      if (w < threshold) continue;
      igraph_vector_int_push_back(&edges, i);
      igraph_vector_int_push_back(&edges, j);
      igraph_vector_push_back(&weights, w);
      VECTOR(strength)[i] += w;
      VECTOR(strength)[j] += w;
      total += w;
    }
  }
  igraph_t graph;
  igraph_create(&graph, &edges, k, IGRAPH_UNDIRECTED);
  igraph_vector_int_t membership;
  igraph_vector_int_init(&membership, k);
  igraph_integer_t clusters = 0;
  igraph_real_t quality = 0;
  igraph_rng_seed(igraph_rng_default(), static_cast<igraph_uint_t>(seed));
  // Node weights = strengths and resolution / 2m turn Leiden's CPM objective into modularity.
  const double gamma = total > 0 ? resolution / (2.0 * total) : resolution;
  igraph_community_leiden(&graph, &weights, &strength, gamma, 0.01, false, -1, &membership, &clusters, &quality);
  std::vector<int64_t> out(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) out[static_cast<size_t>(i)] = VECTOR(membership)[i];
  igraph_vector_int_destroy(&membership);
  igraph_destroy(&graph);
  igraph_vector_destroy(&strength);
  igraph_vector_destroy(&weights);
  igraph_vector_int_destroy(&edges);
  return out;
}

}  // namespace

std::vector<int64_t> spearman_pass(const torch::Tensor& rho, const std::vector<std::string>& names,
                                   const std::vector<bool>& is_protected, const Informativeness& info,
                                   const DescriptorOptions& o, std::vector<ColumnDecision>& decisions) {
  const int64_t k = rho.size(0);
  const auto rho_double = rho.to(torch::kDouble).contiguous();
  const auto r = rho_double.accessor<double, 2>();
  const auto membership = leiden_membership(rho, o.spearman_threshold, o.leiden_resolution, o.seed);
  // One representative per community (protected columns are always kept besides it).
  std::map<int64_t, int64_t> representative;
  for (int64_t i = 0; i < k; ++i) {
    auto [it, inserted] = representative.emplace(membership[static_cast<size_t>(i)], i);
    if (!inserted && info.better(i, it->second)) it->second = i;
  }
  std::vector<bool> alive(static_cast<size_t>(k), false);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t rep = representative[membership[static_cast<size_t>(i)]];
    if (i == rep || is_protected[static_cast<size_t>(i)]) {
      alive[static_cast<size_t>(i)] = true;
      continue;
    }
    char reason[200];
    std::snprintf(reason, sizeof reason, "Spearman community of '%s' (|rho| %.3f)", names[static_cast<size_t>(rep)].c_str(),
                  std::abs(r[i][rep]));
    decisions.push_back({names[static_cast<size_t>(i)], false, 2, reason});
  }
  // Communities do not guarantee it: sweep greedily, best columns first, protected ones before all.
  std::vector<int64_t> order;
  for (int64_t i = 0; i < k; ++i) {
    if (alive[static_cast<size_t>(i)]) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (is_protected[static_cast<size_t>(a)] != is_protected[static_cast<size_t>(b)]) return bool(is_protected[static_cast<size_t>(a)]);
    return info.better(a, b);
  });
  std::vector<int64_t> kept;
  for (const int64_t i : order) {
    int64_t clash = -1;
    for (const int64_t j : kept) {
      if (std::abs(r[i][j]) >= o.spearman_threshold) {
        clash = j;
        break;
      }
    }
    if (clash >= 0 && !is_protected[static_cast<size_t>(i)]) {
      char reason[200];
      std::snprintf(reason, sizeof reason, "sweep: |rho| %.3f with kept '%s'", std::abs(r[i][clash]),
                    names[static_cast<size_t>(clash)].c_str());
      decisions.push_back({names[static_cast<size_t>(i)], false, 2, reason});
      continue;
    }
    kept.push_back(i);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

std::vector<int64_t> drop_redundant_pairs(const torch::Tensor& score, double threshold, int pass, const char* what,
                                          const std::vector<std::string>& names, const std::vector<bool>& is_protected,
                                          const Informativeness& info, std::vector<ColumnDecision>& decisions) {
  const int64_t k = score.size(0);
  const auto score_double = score.to(torch::kDouble).contiguous();
  const auto sc = score_double.accessor<double, 2>();
  struct Pair { double s; int64_t a, b; };
  std::vector<Pair> pairs;
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t j = i + 1; j < k; ++j) {
      const double s = sc[i][j];
      if (s > threshold) pairs.push_back({s, i, j});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [](const Pair& x, const Pair& y) { return x.s > y.s; });
  std::vector<bool> alive(static_cast<size_t>(k), true);
  for (const auto& p : pairs) {
    if (!alive[static_cast<size_t>(p.a)] || !alive[static_cast<size_t>(p.b)]) continue;
    const bool pa = is_protected[static_cast<size_t>(p.a)], pb = is_protected[static_cast<size_t>(p.b)];
    if (pa && pb) continue;
    int64_t loser = info.better(p.a, p.b) ? p.b : p.a;
    if (pa) loser = p.b;
    if (pb) loser = p.a;
    const int64_t winner = loser == p.a ? p.b : p.a;
    alive[static_cast<size_t>(loser)] = false;
    char reason[200];
    std::snprintf(reason, sizeof reason, "%s %.3f with '%s'", what, p.s, names[static_cast<size_t>(winner)].c_str());
    decisions.push_back({names[static_cast<size_t>(loser)], false, pass, reason});
  }
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < k; ++i) {
    if (alive[static_cast<size_t>(i)]) kept.push_back(i);
  }
  return kept;
}

}  // namespace safetrain::data::descriptors
