#pragma once
// Private to the pipeline: whether a column the kernel passes call redundant is predictable from its kept
// partner (the criterion is documented in predictability.cpp and the README's pruner section).
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <string>
#include <vector>

namespace safetrain::data::descriptors {

// The share of a column's variance its kept partner must explain (adjusted R^2 of the binned mapping).
inline constexpr double kMinExplained = 0.9;

struct BinnedFit {
  double adjusted_r2 = 0;  // NaN when the column is constant on these rows (no verdict)
  int64_t bins = 0;
};
// `column` predicted by its mean in each bin of `partner` over m rows: each distinct partner value is a bin
// when there are at most min(32, m / 8) of them, else that many equal-count bins (ties never split).
// R^2 adjusted for the bins: 1 - (1 - R^2)(m - 1)/(m - bins).
BinnedFit binned_fit(const float* partner, const float* column, int64_t m);

struct Predictability {
  double r2_sample = 0, r2_holdout = 0;  // adjusted R^2 on the pass's rows and (the worst of) the second sample
  int64_t bins = 0;                      // partner bins on the pass's rows
  bool predictable = false;
};

class PredictabilityCheck {
 public:
  // sample [k, m]: the rows the pass saw; holdout [k, h]: rows disjoint from them (may be undefined or short,
  // then the two random halves of the sample stand in for it).
  PredictabilityCheck(const torch::Tensor& sample, const torch::Tensor& holdout, uint64_t seed);
  Predictability operator()(int64_t column, int64_t partner) const;  // column predicted from partner
  const std::string& holdout_kind() const { return holdout_kind_; }
  int64_t holdout_rows() const;

 private:
  torch::Tensor sample_;
  std::vector<torch::Tensor> second_;
  std::string holdout_kind_;
};

}  // namespace safetrain::data::descriptors
