#include "safetrain/eval/output_buffer.hpp"

#include <cstring>
#include <stdexcept>

namespace safetrain::eval {
namespace {

torch::Tensor as_cpu_float_rows(const torch::Tensor& t, int64_t dims, const char* what) {
  if (!t.defined()) throw std::invalid_argument(std::string("OutputBuffer: ") + what + " is undefined");
  torch::Tensor m = t.detach();
  if (m.dim() == 1 && dims == 1) m = m.unsqueeze(1);
  if (m.dim() != 2 || m.size(1) != dims) {
    throw std::invalid_argument(std::string("OutputBuffer: ") + what + " must be [n, " + std::to_string(dims) + "]");
  }
  return m.to(torch::kCPU, torch::kFloat).contiguous();
}

}  // namespace

OutputBuffer::OutputBuffer(int64_t capacity, int64_t dims, uint64_t seed)
    : capacity_(capacity), dims_(dims), seed_(seed), rng_(seed) {
  if (capacity < 0) throw std::invalid_argument("OutputBuffer: capacity must be >= 0");
  if (dims <= 0) throw std::invalid_argument("OutputBuffer: dims must be > 0");
  // Allocated once; every later add copies into these rows.
  predictions_ = torch::empty({capacity_, dims_}, torch::kFloat);
  targets_ = torch::empty({capacity_, dims_}, torch::kFloat);
  row_ids_ = torch::empty({capacity_}, torch::kLong);
}

void OutputBuffer::begin_epoch(int64_t epoch) {
  clear();
  epoch_ = epoch;
  rng_.seed(seed_ + static_cast<uint64_t>(epoch));
}

void OutputBuffer::clear() {
  size_ = 0;
  seen_ = 0;
}

int64_t OutputBuffer::bytes() const {
  return static_cast<int64_t>(predictions_.nbytes() + targets_.nbytes() + row_ids_.nbytes());
}

int64_t OutputBuffer::draw_slot() {
  if (seen_ < capacity_) return seen_;
  if (capacity_ == 0) return -1;
  // Algorithm R: row number k (0-based) replaces a random slot with probability cap/(k+1).
  // The range reduction is written out (multiply-shift) so a seed gives the same sample on
  // every standard library, which uniform_int_distribution does not promise.
  const auto bound = static_cast<unsigned __int128>(seen_) + 1;
  const auto j = static_cast<int64_t>((static_cast<unsigned __int128>(rng_()) * bound) >> 64);
  return j < capacity_ ? j : -1;
}

void OutputBuffer::add(const torch::Tensor& pred, const torch::Tensor& target, const torch::Tensor& row_ids) {
  torch::NoGradGuard no_grad;
  const torch::Tensor p = as_cpu_float_rows(pred, dims_, "pred");
  const torch::Tensor y = as_cpu_float_rows(target, dims_, "target");
  const int64_t n = p.size(0);
  if (y.size(0) != n) throw std::invalid_argument("OutputBuffer: pred and target row counts differ");
  torch::Tensor ids;
  if (row_ids.defined()) {
    ids = row_ids.detach().reshape({-1}).to(torch::kCPU, torch::kLong).contiguous();
    if (ids.size(0) != n) throw std::invalid_argument("OutputBuffer: row_ids must have one id per row");
  }
  const float* pp = p.data_ptr<float>();
  const float* yp = y.data_ptr<float>();
  const int64_t* ip = ids.defined() ? ids.data_ptr<int64_t>() : nullptr;
  float* kept_p = predictions_.data_ptr<float>();
  float* kept_y = targets_.data_ptr<float>();
  int64_t* kept_ids = row_ids_.data_ptr<int64_t>();
  const size_t row_bytes = static_cast<size_t>(dims_) * sizeof(float);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t slot = draw_slot();
    if (slot >= 0) {
      std::memcpy(kept_p + slot * dims_, pp + i * dims_, row_bytes);
      std::memcpy(kept_y + slot * dims_, yp + i * dims_, row_bytes);
      kept_ids[slot] = ip ? ip[i] : seen_;
      if (slot == size_) ++size_;
    }
    ++seen_;
  }
}

BufferedOutputs OutputBuffer::snapshot() const {
  BufferedOutputs out;
  out.epoch = epoch_;
  out.seen = seen_;
  // Sorted by row id; index_select allocates fresh tensors of exactly the kept size.
  const torch::Tensor order = std::get<1>(row_ids_.narrow(0, 0, size_).sort());
  out.row_ids = row_ids_.index_select(0, order);
  out.predictions = predictions_.index_select(0, order);
  out.targets = targets_.index_select(0, order);
  return out;
}

}  // namespace safetrain::eval
