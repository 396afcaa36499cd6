// Spearman rho: standardised ranks (ranked_columns.cpp), then one float32 matrix product run in
// row blocks sized from the working budget (on CUDA with prefer_gpu); missing cells by the NaN policy.
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "passes.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/device/accelerator.hpp"

namespace safetrain::data::descriptors {
namespace {

torch::Device product_device(bool prefer_gpu) {
  if (!prefer_gpu) return torch::kCPU;
  static std::once_flag said_so;  // the fallback is said once per process, not once per product
  const auto found = device::availability();
  if (found.device_count > 0) return torch::Device(torch::kCUDA, 0);
  std::call_once(said_so, [&found] {
    log::info("descriptors: --prefer-gpu but CUDA has ", found.reason, "; the rank product falls back to the CPU");
  });
  return torch::kCPU;
}

using BlockVisitor = std::function<void(int64_t first_row, int64_t first_column, const torch::Tensor& block)>;

// za [ka, n] x zb [kb, n]^T in row blocks; `symmetric` computes only columns >= the block's first row.
// Each block [rows, columns] float32 is visited on the CPU and freed before the next.
void for_each_product_block(const torch::Tensor& za, const torch::Tensor& zb, bool symmetric, int64_t block,
                            bool prefer_gpu, WorkingSet& working, const BlockVisitor& visit) {
  const int64_t ka = za.size(0), kb = zb.size(0);
  if (block <= 0) {
    block = std::max<int64_t>(1, working.budget() / 4 / (4 * std::max<int64_t>(kb, 1)));
    // At least ~4 blocks when symmetric, so the upper triangle saves about a third of the product.
    if (symmetric) block = std::min(block, std::max<int64_t>(64, (ka + 3) / 4));
  }
  const auto device = product_device(prefer_gpu);
  const auto a = za.to(device), b = symmetric ? a : zb.to(device);
  for (int64_t start = 0; start < ka; start += block) {
    const int64_t rows = std::min(block, ka - start);
    const int64_t first_column = symmetric ? start : 0;
    Scratch counted(working, rows * (kb - first_column) * 4 * (device.is_cpu() ? 1 : 2));
    const auto product = torch::mm(a.narrow(0, start, rows), b.narrow(0, first_column, kb - first_column).t());
    visit(start, first_column, product.to(torch::kCPU).contiguous());
  }
}

// [ka, kb] rho, pairwise where a column has gaps.
torch::Tensor dense_cross(const RankedColumns& a, const RankedColumns& b, int64_t block, bool prefer_gpu,
                          WorkingSet& working) {
  auto rho = torch::empty({a.size(), b.size()}, torch::kDouble);
  for_each_product_block(a.z, b.z, false, block, prefer_gpu, working,
                         [&](int64_t first_row, int64_t, const torch::Tensor& product) {
                           rho.narrow(0, first_row, product.size(0)).copy_(product);
                         });
  const bool same = a.z.is_same(b.z);
  for (const auto& [i, row] : pairwise_rows(a, b, working)) {
    rho[i].copy_(torch::tensor(row, torch::kDouble));
    if (same) rho.select(1, i).copy_(rho[i]);  // symmetric: the column is the row
  }
  if (!same) {
    for (const auto& [j, column] : pairwise_rows(b, a, working)) rho.select(1, j).copy_(torch::tensor(column, torch::kDouble));
  }
  return rho.clamp_(-1.0, 1.0);
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

std::vector<Edge> spearman_edges(const RankedColumns& r, double threshold, bool prefer_gpu, WorkingSet& working) {
  const auto gaps = pairwise_rows(r, r, working);
  Scratch counted(working, static_cast<int64_t>(gaps.size()) * r.size() * 8);
  std::vector<Edge> edges;
  for_each_product_block(r.z, r.z, true, 0, prefer_gpu, working,
                         [&](int64_t first_row, int64_t first_column, const torch::Tensor& block) {
                           const auto p = block.accessor<float, 2>();
                           for (int64_t i = first_row; i < first_row + block.size(0); ++i) {
                             const auto gi = gaps.find(i);
                             for (int64_t j = i + 1; j < first_column + block.size(1); ++j) {
                               double rho = p[i - first_row][j - first_column];
                               if (gi != gaps.end()) {
                                 rho = gi->second[static_cast<size_t>(j)];
                               } else if (r.has_missing(j)) {
                                 rho = gaps.at(j)[static_cast<size_t>(i)];
                               }
                               if (std::abs(rho) >= threshold) edges.push_back({i, j, std::min(1.0, std::abs(rho))});
                             }
                           }
                         });
  return edges;
}

torch::Tensor ranked_cross(const RankedColumns& a, const RankedColumns& b, WorkingSet& working) {
  return dense_cross(a, b, 0, false, working);
}

torch::Tensor spearman_cross(const torch::Tensor& a, const torch::Tensor& b, NanPolicy policy, int64_t block,
                             bool prefer_gpu) {
  const bool same = a.is_same(b);
  if (policy == NanPolicy::drop_rows) {
    const auto joint = complete_observations(same ? a : torch::cat({a, b}, 0));
    const auto ca = joint.narrow(0, 0, a.size(0));
    return same ? spearman_cross(joint, joint, NanPolicy::fill_mean, block, prefer_gpu)
                : spearman_cross(ca, joint.narrow(0, a.size(0), b.size(0)), NanPolicy::fill_mean, block, prefer_gpu);
  }
  WorkingSet working(int64_t{256} << 20);
  auto ra = rank_in_place(a.to(torch::kFloat).clone(), working);
  auto rb = same ? ra : rank_in_place(b.to(torch::kFloat).clone(), working);
  if (policy == NanPolicy::fill_mean) {  // missing cells keep the mean rank: no pairwise redo
    for (auto& p : ra.present) p = torch::Tensor();
    for (auto& p : rb.present) p = torch::Tensor();
  }
  return dense_cross(ra, rb, block, prefer_gpu, working);
}

torch::Tensor spearman_matrix(const torch::Tensor& values, NanPolicy policy, int64_t block, bool prefer_gpu) {
  return spearman_cross(values, values, policy, block, prefer_gpu);
}

}  // namespace safetrain::data::descriptors
