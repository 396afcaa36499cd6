#pragma once
// Where the descriptor pipeline reads rows from: a CSV glob (streamed in row
// batches) or an in-memory table (the trainer's training rows).
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "safetrain/data/csv_reader.hpp"

namespace safetrain::data::descriptors {

class RowBatchSource {
 public:
  virtual ~RowBatchSource() = default;
  virtual const std::vector<std::string>& columns() const = 0;
  virtual std::optional<torch::Tensor> next_batch() = 0;  // float32 [rows, columns]
  virtual void rewind() = 0;
  virtual std::string fingerprint() const = 0;  // identifies the content, for caching
};

class TensorRowSource : public RowBatchSource {
 public:
  TensorRowSource(std::vector<std::string> columns, torch::Tensor values, int64_t batch_rows);
  const std::vector<std::string>& columns() const override { return columns_; }
  std::optional<torch::Tensor> next_batch() override;
  void rewind() override { position_ = 0; }
  std::string fingerprint() const override;

 private:
  std::vector<std::string> columns_;
  torch::Tensor values_;
  int64_t batch_rows_;
  int64_t position_ = 0;
};

class CsvRowSource : public RowBatchSource {
 public:
  CsvRowSource(const std::string& path_or_glob, int64_t batch_rows, CsvColumnRoles roles = {});
  const std::vector<std::string>& columns() const override { return reader_.columns(); }
  std::optional<torch::Tensor> next_batch() override;
  void rewind() override { reader_.rewind(); }
  std::string fingerprint() const override;  // paths, sizes and modification times

 private:
  CsvBatchReader reader_;
};

}  // namespace safetrain::data::descriptors
