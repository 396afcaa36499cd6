#pragma once
// Rows already in memory as a TableSource (the trainer's training rows for the pruner, tests): batches are
// views of the tensor, never copies (a projection's batches copy its columns of the rows asked for); the
// fingerprint hashes the content.
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
  std::unique_ptr<TableSource> with_columns(const std::vector<std::string>& numeric_columns) const override;
  std::string fingerprint() const override;

 private:
  TensorTableSource(const TensorTableSource& whole, const std::vector<int64_t>& positions);
  torch::Tensor rows_at(int64_t start, int64_t rows) const;  // [rows, columns()] from row `start`

  torch::Tensor values_;
  torch::Tensor picked_;  // a projection's columns of values_ (kLong), shared, not copied; undefined: all
  int64_t position_ = 0;
};

}  // namespace safetrain::data
