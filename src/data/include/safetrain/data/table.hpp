#pragma once
// A numeric table: named columns over one contiguous float32 tensor.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace safetrain::data {

struct Table {
  std::vector<std::string> columns;
  torch::Tensor values;  // float32 [rows, columns], contiguous, owns its storage
  std::string source;    // file, glob or generator, for messages
};

// Index of `name` in `table.columns`, or -1.
int64_t column_index(const Table& table, const std::string& name);

}  // namespace safetrain::data
