// Spearman rho: average ranks, then one matrix product of standardised ranks (run in row blocks,
// on CUDA with prefer_gpu); missing cells handled by the NaN policy.
#include <algorithm>
#include <cmath>
#include <mutex>

#include "passes.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"

namespace safetrain::data::descriptors {
namespace {

// Ranks centred and scaled to unit norm per row: the dot product of two rows is their Spearman rho.
// Ranked in blocks of rows so that the sort's temporaries cover one block, not the table: the
// peak is the input plus the result (k x n doubles) plus one block.
torch::Tensor standardised_ranks(const torch::Tensor& values) {
  constexpr int64_t kRowsPerBlock = 64;
  const int64_t k = values.size(0);
  auto z = torch::empty({k, values.size(1)}, torch::kDouble);
  for (int64_t start = 0; start < k; start += kRowsPerBlock) {
    const int64_t rows = std::min(kRowsPerBlock, k - start);
    auto block = average_ranks(values.narrow(0, start, rows)).to(torch::kDouble);
    block -= block.mean(1, true);
    z.narrow(0, start, rows).copy_(block / block.norm(2, 1, true).clamp_min(1e-12));
  }
  return z;
}

torch::Device product_device(bool prefer_gpu) {
  if (!prefer_gpu) return torch::kCPU;
  static std::once_flag said_so;  // the fallback is said once per process, not once per product
#ifdef SAFETRAIN_WITH_CUDA
  if (torch::cuda::is_available()) return torch::Device(torch::kCUDA, 0);
  std::call_once(said_so, [] {
    log::info("descriptors: --prefer-gpu but no CUDA device is visible; the rank product falls back to the CPU");
  });
#else
  std::call_once(said_so, [] {
    log::info("descriptors: --prefer-gpu but this build has no CUDA; the rank product falls back to the CPU");
  });
#endif
  return torch::kCPU;
}

// za [ka, n] x zb [kb, n]^T in row blocks, so the device holds one block of the result at a time.
torch::Tensor blocked_product(const torch::Tensor& za, const torch::Tensor& zb, int64_t block, bool prefer_gpu) {
  const int64_t ka = za.size(0), kb = zb.size(0);
  if (block <= 0) block = std::max<int64_t>(1, (int64_t{64} << 20) / (8 * std::max<int64_t>(kb, 1)));
  auto rho = torch::empty({ka, kb}, torch::kDouble);
  const auto device = product_device(prefer_gpu);
  const auto a = za.to(device), b = za.is_same(zb) ? a : zb.to(device);
  for (int64_t start = 0; start < ka; start += block) {
    const int64_t rows = std::min(block, ka - start);
    rho.narrow(0, start, rows).copy_(torch::mm(a.narrow(0, start, rows), b.t()));  // copy_ brings it back owned
  }
  return rho;
}

// Spearman of x [n] with every row of ys [k, n], each pair over the rows where both are present.
torch::Tensor pairwise_row(const torch::Tensor& x, const torch::Tensor& ys) {
  const auto present = torch::nonzero(torch::isnan(x).logical_not()).squeeze(1);
  auto out = torch::zeros({ys.size(0)}, torch::kDouble);
  if (present.numel() < 2) return out;  // no evidence of dependence
  const auto xs = x.index_select(0, present).unsqueeze(0);
  const auto sub = ys.index_select(1, present);
  const auto has_nan = torch::isnan(sub).any(1);
  const auto clean = torch::nonzero(has_nan.logical_not()).squeeze(1);
  if (clean.numel() > 0) {
    // Rows complete on x's support share x's ranks: one matrix-vector product.
    const auto zx = standardised_ranks(xs);
    out.index_copy_(0, clean, torch::mm(standardised_ranks(sub.index_select(0, clean)), zx.t()).squeeze(1));
  }
  const auto gaps = torch::nonzero(has_nan).squeeze(1);
  const auto gap_rows = gaps.accessor<int64_t, 1>();
  for (int64_t g = 0; g < gaps.size(0); ++g) {
    const int64_t j = gap_rows[g];
    const auto both = torch::nonzero(torch::isnan(sub[j]).logical_not()).squeeze(1);
    if (both.numel() < 2) continue;
    const auto z = standardised_ranks(torch::stack({xs[0].index_select(0, both), sub[j].index_select(0, both)}));
    out[j] = torch::dot(z[0], z[1]);
  }
  return out;
}

}  // namespace

NanPolicy parse_nan_policy(const std::string& name) {
  if (name == "pairwise") return NanPolicy::pairwise;
  if (name == "fill_mean") return NanPolicy::fill_mean;
  if (name == "drop_rows") return NanPolicy::drop_rows;
  throw InputError("descriptors.nan_policy: '" + name + "' is not one of pairwise, fill_mean, drop_rows");
}

torch::Tensor complete_observations(const torch::Tensor& values) {
  const auto complete = torch::nonzero(torch::isnan(values).any(0).logical_not()).squeeze(1);
  return values.index_select(1, complete);
}

torch::Tensor spearman_cross(const torch::Tensor& a, const torch::Tensor& b, NanPolicy policy, int64_t block,
                             bool prefer_gpu) {
  const bool same = a.is_same(b);
  if (policy == NanPolicy::drop_rows) {
    if (same) {
      const auto complete = complete_observations(a);
      return spearman_cross(complete, complete, NanPolicy::fill_mean, block, prefer_gpu);
    }
    const auto joint = complete_observations(torch::cat({a, b}, 0));
    return spearman_cross(joint.narrow(0, 0, a.size(0)), joint.narrow(0, a.size(0), b.size(0)), NanPolicy::fill_mean,
                          block, prefer_gpu);
  }
  torch::Tensor rho;
  {
    const auto za = standardised_ranks(a);
    rho = blocked_product(za, same ? za : standardised_ranks(b), block, prefer_gpu);
  }  // the ranks (k x n doubles) are freed here
  if (policy == NanPolicy::pairwise) {
    const auto a_gaps = torch::nonzero(torch::isnan(a).any(1)).squeeze(1);
    for (int64_t g = 0; g < a_gaps.size(0); ++g) {
      const int64_t i = a_gaps[g].item<int64_t>();
      const auto row = pairwise_row(a[i], b);
      rho[i].copy_(row);
      if (same) rho.select(1, i).copy_(row);
    }
    if (!same) {
      const auto b_gaps = torch::nonzero(torch::isnan(b).any(1)).squeeze(1);
      for (int64_t g = 0; g < b_gaps.size(0); ++g) {
        const int64_t j = b_gaps[g].item<int64_t>();
        rho.select(1, j).copy_(pairwise_row(b[j], a));
      }
    }
  }
  return rho.clamp_(-1.0, 1.0);
}

torch::Tensor spearman_matrix(const torch::Tensor& values, NanPolicy policy, int64_t block, bool prefer_gpu) {
  return spearman_cross(values, values, policy, block, prefer_gpu);
}

}  // namespace safetrain::data::descriptors
