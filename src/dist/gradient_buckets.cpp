#include "safetrain/dist/gradient_buckets.hpp"

namespace safetrain::dist {

std::vector<std::vector<BucketSlot>> plan_buckets(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes) {
  std::vector<std::vector<BucketSlot>> plan;
  int64_t filled_bytes = 0;
  for (size_t i = 0; i < parameters.size(); ++i) {
    const auto& p = parameters[i];
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    const bool same_kind = !plan.empty() && parameters[plan.back().front().parameter].dtype() == p.dtype() &&
                           parameters[plan.back().front().parameter].device() == p.device();
    if (plan.empty() || !same_kind || filled_bytes + bytes > bucket_bytes) {
      plan.emplace_back();
      filled_bytes = 0;
    }
    const int64_t offset = plan.back().empty() ? 0 : plan.back().back().offset + plan.back().back().numel;
    plan.back().push_back({i, offset, p.numel()});
    filled_bytes += bytes;
  }
  return plan;
}

GradientBuckets::GradientBuckets(std::vector<torch::Tensor> parameters, int64_t bucket_bytes)
    : parameters_(std::move(parameters)), plan_(plan_buckets(parameters_, bucket_bytes)) {
  for (const auto& slots : plan_) {
    const auto& last = slots.back();
    buckets_.push_back(torch::empty({last.offset + last.numel}, parameters_[slots.front().parameter].options()));
  }
}

int64_t GradientBuckets::bucket_bytes_total() const {
  int64_t total = 0;
  for (const auto& b : buckets_) total += static_cast<int64_t>(b.nbytes());
  return total;
}

void GradientBuckets::average(Communicator& communicator) {
  torch::NoGradGuard no_grad;
  const double world = communicator.world_size();
  for (size_t b = 0; b < plan_.size(); ++b) {
    auto& flat = buckets_[b];
    for (const auto& slot : plan_[b]) {
      const auto& grad = parameters_[slot.parameter].grad();
      auto target = flat.narrow(0, slot.offset, slot.numel);
      if (grad.defined()) {
        target.copy_(grad.reshape({-1}));
      } else {
        target.zero_();
      }
    }
    communicator.all_reduce(flat, Reduce::sum);
    flat.div_(world);
    for (const auto& slot : plan_[b]) {
      auto& parameter = parameters_[slot.parameter];
      const auto mean = flat.narrow(0, slot.offset, slot.numel).view(parameter.sizes());
      if (parameter.grad().defined()) {
        parameter.mutable_grad().copy_(mean);
      } else {
        parameter.mutable_grad() = mean.clone();
      }
    }
  }
}

}  // namespace safetrain::dist
