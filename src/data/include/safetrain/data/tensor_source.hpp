#pragma once
// Rows already in memory as a TableSource (the trainer's training rows for the pruner, tests): batches are
// views of the tensor, never copies; the fingerprint hashes the content.
#include "safetrain/data/table_source.hpp"

namespace safetrain::data {

class TensorTableSource final : public TableSource {
 public:
  TensorTableSource(std::vector<std::string> columns, torch::Tensor values, int64_t batch_rows);
  std::optional<int64_t> row_count() const override { return values_.size(0); }
  int64_t row_upper_bound() const override { return values_.size(0); }
  int64_t read_rows(float* out, int64_t max_rows, TextColumns* ids) override;
  std::optional<torch::Tensor> next_batch() override;
  void rewind() override { position_ = 0; }
  std::string fingerprint() const override;

 private:
  torch::Tensor values_;
  int64_t position_ = 0;
};

}  // namespace safetrain::data
