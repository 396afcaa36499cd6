#include "safetrain/data/descriptors/row_source.hpp"

#include <filesystem>
#include <functional>
#include <sstream>

namespace safetrain::data::descriptors {

TensorRowSource::TensorRowSource(std::vector<std::string> columns, torch::Tensor values, int64_t batch_rows)
    : columns_(std::move(columns)), values_(values.to(torch::kFloat).contiguous()), batch_rows_(batch_rows) {}

std::optional<torch::Tensor> TensorRowSource::next_batch() {
  if (position_ >= values_.size(0)) return std::nullopt;
  const int64_t rows = std::min(batch_rows_, values_.size(0) - position_);
  auto batch = values_.narrow(0, position_, rows);  // a view: batches are read, never kept
  position_ += rows;
  return batch;
}

std::string TensorRowSource::fingerprint() const {
  // Content hash: the bytes of the table and its column names.
  const auto bytes = values_.nan_to_num(0.0).contiguous();
  const std::string_view raw(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.nbytes()));
  std::ostringstream out;
  size_t names = 0;
  for (const auto& c : columns_) names = names * 31 + std::hash<std::string>{}(c);
  out << std::hex << std::hash<std::string_view>{}(raw) << "-" << names << "-" << values_.size(0);
  return out.str();
}

CsvRowSource::CsvRowSource(const std::string& path_or_glob, int64_t batch_rows) : reader_(path_or_glob, batch_rows) {}

std::optional<torch::Tensor> CsvRowSource::next_batch() {
  auto batch = reader_.next_batch();
  if (!batch) return std::nullopt;
  return batch->values;
}

std::string CsvRowSource::fingerprint() const {
  std::ostringstream out;
  for (const auto& f : reader_.files()) {
    out << f.string() << ":" << std::filesystem::file_size(f) << ":"
        << std::filesystem::last_write_time(f).time_since_epoch().count() << ";";
  }
  std::ostringstream hashed;
  hashed << std::hex << std::hash<std::string>{}(out.str());
  return hashed.str();
}

}  // namespace safetrain::data::descriptors
