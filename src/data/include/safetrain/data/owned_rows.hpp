#pragma once
// Helpers that let one float32 buffer become a smaller tensor without a second
// copy: the load path reads the table into one buffer, reorders and narrows it
// in place, then gives the unused tail's pages back to the kernel.
#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace safetrain::data {

// True when nothing else (another tensor, a view) shares `t`'s storage, so it may be rewritten in place.
bool uniquely_owned(const torch::Tensor& t);

// The first numel(sizes) elements of the contiguous, uniquely owned `t` as a tensor of `sizes` over the same
// storage; the storage's byte count shrinks to match (an owned tensor, not a view) and the whole pages past it
// go back to the kernel (madvise), so resident memory drops without a copy.
torch::Tensor keep_leading(torch::Tensor&& t, std::vector<int64_t> sizes);

// Rows `rows` of the [R, C] float32 matrix `t`, columns `cols` only, into a new owned [rows, cols] tensor.
torch::Tensor gather_rows_columns(const torch::Tensor& t, const std::vector<int64_t>& rows,
                                  const std::vector<int64_t>& cols);

// Rewrites the contiguous [R, C] float32 `t` in place so that its first order.size() rows hold, each as wide as
// `cols`, the source rows `order` (distinct) restricted to `cols`; the rest of the buffer is left undefined.
// Extra memory: one row and two bits per row (`order` is taken over and extended to the full permutation).
void reorder_rows_in_place(torch::Tensor& t, std::vector<int64_t> order, const std::vector<int64_t>& cols);

// NaN cells per column of a contiguous [n, C] float32 tensor, counted without a mask the size of the data.
std::vector<int64_t> nan_counts(const torch::Tensor& t);

}  // namespace safetrain::data
