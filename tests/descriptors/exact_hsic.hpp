#pragma once
// The exact normalised HSIC the pruner used before its low-rank features (m x m centred Gaussian
// kernels, median heuristic over all pairs), kept here as the reference the approximation must match.
#include <torch/torch.h>

namespace exact_hsic {

inline torch::Tensor matrix(const torch::Tensor& sample) {
  auto x = sample.to(torch::kDouble);
  x = (x - x.mean(1, true)) / x.std(1, true, true).clamp_min(1e-12);
  const int64_t k = x.size(0), m = x.size(1);
  auto flat = torch::empty({k, m * m}, torch::kDouble);
  for (int64_t i = 0; i < k; ++i) {
    const auto d = (x[i].unsqueeze(0) - x[i].unsqueeze(1)).pow(2);
    const auto positive = d.masked_select(d > 0);
    const double median = positive.numel() > 0 ? positive.median().item<double>() : 1.0;
    const auto kernel = torch::exp(-d / (2.0 * median));
    const auto centred = kernel - kernel.mean(0, true) - kernel.mean(1, true) + kernel.mean();
    flat[i].copy_(centred.flatten() / centred.norm().clamp_min(1e-12));
  }
  return torch::mm(flat, flat.t()).clamp_(0.0, 1.0);
}

}  // namespace exact_hsic
