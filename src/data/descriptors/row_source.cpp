#include "safetrain/data/descriptors/row_source.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/stop_signals.hpp"

namespace safetrain::data::descriptors {

TensorRowSource::TensorRowSource(std::vector<std::string> columns, torch::Tensor values, int64_t batch_rows)
    : columns_(std::move(columns)), values_(values.to(torch::kFloat).contiguous()), batch_rows_(batch_rows) {
  if (batch_rows_ < 1) throw InputError("descriptors.batch_rows: " + std::to_string(batch_rows_) + " is below 1");
  if (values_.dim() != 2 || values_.size(1) != static_cast<int64_t>(columns_.size())) {
    throw InputError("descriptors: the table has " + std::to_string(columns_.size()) +
                     " column names but its values are shaped " + std::to_string(values_.dim()) + "-D [" +
                     (values_.dim() == 2 ? std::to_string(values_.size(0)) + ", " + std::to_string(values_.size(1))
                                         : std::string("...")) + "]");
  }
}

std::optional<torch::Tensor> TensorRowSource::next_batch() {
  throw_if_stop_requested("while pruning descriptor columns");
  if (position_ >= values_.size(0)) return std::nullopt;
  const int64_t rows = std::min(batch_rows_, values_.size(0) - position_);
  auto batch = values_.narrow(0, position_, rows);  // a view: batches are read, never kept
  position_ += rows;
  return batch;
}

std::string TensorRowSource::fingerprint() const {
  // Content hash over the table in row blocks (extra memory: one block), NaN canonicalised so that
  // equal tables hash equal and a NaN never hashes like a number.
  size_t hash = std::hash<int64_t>{}(values_.size(0));
  for (const auto& c : columns_) hash = hash * 1099511628211ULL ^ std::hash<std::string>{}(c);
  const int64_t block = std::max<int64_t>(1, batch_rows_);
  for (int64_t start = 0; start < values_.size(0); start += block) {
    const auto rows = values_.narrow(0, start, std::min(block, values_.size(0) - start));
    const auto canonical = torch::where(torch::isnan(rows), torch::full({}, NAN, rows.options()), rows).contiguous();
    const std::string_view raw(static_cast<const char*>(canonical.data_ptr()), static_cast<size_t>(canonical.nbytes()));
    hash = hash * 1099511628211ULL ^ std::hash<std::string_view>{}(raw);
  }
  std::ostringstream out;
  out << std::hex << hash << "-" << values_.size(0) << "x" << columns_.size();
  return out.str();
}

CsvRowSource::CsvRowSource(const std::string& path_or_glob, int64_t batch_rows, CsvColumnRoles roles)
    : reader_(path_or_glob, batch_rows, std::move(roles)) {}

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
