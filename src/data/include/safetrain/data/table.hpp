#pragma once
// A numeric table: named columns over one contiguous float32 tensor.
#include <torch/torch.h>

#include <string>

#include "safetrain/common/text_columns.hpp"
#include <vector>

namespace safetrain::data {

struct Table {
  std::vector<std::string> columns;
  torch::Tensor values;  // float32 [rows, columns], contiguous, owns its storage
  std::string source;    // file, glob or generator, for messages
  TextColumns ids;       // id columns, when the source has them
};

// Index of `name` in `table.columns`, or -1.
int64_t column_index(const Table& table, const std::string& name);

}  // namespace safetrain::data
