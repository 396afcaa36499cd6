#include "safetrain/data/owned_rows.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace safetrain::data {
namespace {

void check_float_matrix(const torch::Tensor& t, const char* what) {
  if (t.dim() != 2 || t.scalar_type() != torch::kFloat || !t.is_contiguous() || t.storage_offset() != 0 ||
      !t.device().is_cpu()) {
    throw std::logic_error(std::string(what) + ": needs a contiguous CPU float32 matrix at offset 0");
  }
}

// Whole pages of [begin, end) back to the kernel; partial pages at either end stay (they may hold an
// allocator's bookkeeping for the neighbouring block).
void release_pages(char* begin, char* end) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
  const uintptr_t last = reinterpret_cast<uintptr_t>(end) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace

bool uniquely_owned(const torch::Tensor& t) {
  return t.defined() && t.use_count() == 1 && t.storage().use_count() == 1;
}

torch::Tensor keep_leading(torch::Tensor&& t, std::vector<int64_t> sizes) {
  if (!uniquely_owned(t) || !t.is_contiguous() || t.storage_offset() != 0 || !t.device().is_cpu()) {
    throw std::logic_error("keep_leading: needs a contiguous, uniquely owned CPU tensor");
  }
  const int64_t numel = std::accumulate(sizes.begin(), sizes.end(), int64_t{1}, std::multiplies<>());
  if (numel > t.numel()) throw std::logic_error("keep_leading: more elements than the tensor holds");
  const auto options = t.options();
  const size_t keep = static_cast<size_t>(numel) * t.element_size();
  c10::Storage storage = t.storage();
  t = torch::Tensor();  // the storage is ours alone from here on
  auto* base = static_cast<char*>(storage.data_ptr().get());
  release_pages(base + keep, base + storage.nbytes());
  storage.unsafeGetStorageImpl()->set_nbytes(keep);
  std::vector<int64_t> strides(sizes.size(), 1);
  for (size_t i = sizes.size(); i-- > 1;) strides[i - 1] = strides[i] * sizes[i];
  return torch::empty({0}, options).set_(storage, 0, sizes, strides);
}

torch::Tensor gather_rows_columns(const torch::Tensor& t, const std::vector<int64_t>& rows,
                                  const std::vector<int64_t>& cols) {
  check_float_matrix(t, "gather_rows_columns");
  const int64_t width = t.size(1), n = static_cast<int64_t>(rows.size()), k = static_cast<int64_t>(cols.size());
  auto out = torch::empty({n, k});
  const float* src = t.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    const float* row = src + rows[static_cast<size_t>(i)] * width;
    for (int64_t j = 0; j < k; ++j) dst[i * k + j] = row[cols[static_cast<size_t>(j)]];
  }
  return out;
}

void reorder_rows_in_place(torch::Tensor& t, std::vector<int64_t> order, const std::vector<int64_t>& cols) {
  check_float_matrix(t, "reorder_rows_in_place");
  const int64_t rows = t.size(0), width = t.size(1);
  const auto row_bytes = static_cast<size_t>(width) * sizeof(float);
  float* data = t.data_ptr<float>();
  auto row = [&](int64_t r) { return data + r * width; };
  // A full permutation (positions past the order take the unused rows) applied cycle by cycle; it extends
  // `order` itself, so the only index memory is the caller's.
  const auto used_rows = static_cast<int64_t>(order.size());
  std::vector<int64_t>& perm = order;
  {
    std::vector<bool> used(static_cast<size_t>(rows));
    for (const int64_t r : perm) used[static_cast<size_t>(r)] = true;
    for (int64_t r = 0; r < rows; ++r) {
      if (!used[static_cast<size_t>(r)]) perm.push_back(r);
    }
  }
  std::vector<bool> done(static_cast<size_t>(rows));
  std::vector<float> saved(static_cast<size_t>(width));
  for (int64_t start = 0; start < rows; ++start) {
    if (done[static_cast<size_t>(start)]) continue;
    std::memcpy(saved.data(), row(start), row_bytes);
    for (int64_t q = start;;) {
      done[static_cast<size_t>(q)] = true;
      const int64_t source = perm[static_cast<size_t>(q)];
      if (source == start) {
        std::memcpy(row(q), saved.data(), row_bytes);
        break;
      }
      std::memcpy(row(q), row(source), row_bytes);
      q = source;
    }
  }
  const auto k = static_cast<int64_t>(cols.size());
  bool identity = k == width;
  for (int64_t j = 0; identity && j < k; ++j) identity = cols[static_cast<size_t>(j)] == j;
  if (identity) return;
  // Narrow each row to `cols`, front to back: row p's target [p*k, p*k+k) never reaches row p+1's cells.
  for (int64_t p = 0; p < used_rows; ++p) {
    for (int64_t j = 0; j < k; ++j) saved[static_cast<size_t>(j)] = row(p)[cols[static_cast<size_t>(j)]];
    std::memcpy(data + p * k, saved.data(), static_cast<size_t>(k) * sizeof(float));
  }
}

std::vector<int64_t> nan_counts(const torch::Tensor& t) {
  // Reads only, so a view at an offset (a split of a mapped cache) is fine.
  if (t.dim() != 2 || t.scalar_type() != torch::kFloat || !t.is_contiguous() || !t.device().is_cpu()) {
    throw std::logic_error("nan_counts: needs a contiguous CPU float32 matrix");
  }
  const int64_t n = t.size(0), width = t.size(1);
  std::vector<int64_t> counts(static_cast<size_t>(width));
  const float* data = t.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < width; ++j) counts[static_cast<size_t>(j)] += std::isnan(data[i * width + j]) ? 1 : 0;
  }
  return counts;
}

}  // namespace safetrain::data
