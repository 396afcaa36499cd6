// Rows already in memory as a TableSource: the trainer hands the pruner its training rows this way.
#include <cmath>
#include <cstring>
#include <functional>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/data/tensor_source.hpp"
#include "table_formats.hpp"

namespace safetrain::data {

TensorTableSource::TensorTableSource(std::vector<std::string> columns, torch::Tensor values, int64_t batch_rows)
    : values_(values.to(torch::kFloat).contiguous()) {
  columns_ = std::move(columns);
  name_ = "the training rows";
  set_batch_rows(batch_rows);
  if (values_.dim() != 2 || values_.size(1) != static_cast<int64_t>(columns_.size())) {
    throw InputError("descriptors: the table has " + std::to_string(columns_.size()) +
                     " column names but its values are shaped " + std::to_string(values_.dim()) + "-D [" +
                     (values_.dim() == 2 ? std::to_string(values_.size(0)) + ", " + std::to_string(values_.size(1))
                                         : std::string("...")) + "]");
  }
}

TensorTableSource::TensorTableSource(const TensorTableSource& whole, const std::vector<int64_t>& positions)
    : values_(whole.values_) {
  columns_ = picked(whole.columns_, positions);
  name_ = whole.name_;
  batch_rows_ = whole.batch_rows_;
  const auto index = torch::tensor(positions, torch::kLong);
  picked_ = whole.picked_.defined() ? whole.picked_.index_select(0, index) : index;
}

std::unique_ptr<TableSource> TensorTableSource::with_columns(const std::vector<std::string>& numeric_columns) const {
  return std::unique_ptr<TableSource>(new TensorTableSource(*this, positions_of(numeric_columns)));
}

torch::Tensor TensorTableSource::rows_at(int64_t start, int64_t rows) const {
  const auto view = values_.narrow(0, start, rows);
  return picked_.defined() ? view.index_select(1, picked_) : view;
}

int64_t TensorTableSource::read_rows(float* out, int64_t max_rows, TextColumns*) {
  throw_if_stop_requested("while reading the training rows");
  const int64_t rows = std::min(max_rows, values_.size(0) - position_);
  if (rows <= 0) return 0;
  const auto block = rows_at(position_, rows).contiguous();
  std::memcpy(out, block.data_ptr<float>(), static_cast<size_t>(block.numel()) * sizeof(float));
  position_ += rows;
  return rows;
}

std::optional<torch::Tensor> TensorTableSource::next_batch() {
  throw_if_stop_requested("while pruning descriptor columns");
  if (position_ >= values_.size(0)) return std::nullopt;
  const int64_t rows = std::min(batch_rows_, values_.size(0) - position_);
  auto batch = rows_at(position_, rows);  // a view (a projection's: a copy of its columns): read, never kept
  position_ += rows;
  return batch;
}

std::string TensorTableSource::fingerprint() const {
  // Content hash over the table in row blocks (extra memory: one block), NaN canonicalised so that
  // equal tables hash equal and a NaN never hashes like a number.
  size_t hash = std::hash<int64_t>{}(values_.size(0));
  for (const auto& c : columns_) hash = hash * 1099511628211ULL ^ std::hash<std::string>{}(c);
  for (int64_t start = 0; start < values_.size(0); start += batch_rows_) {
    const auto rows = rows_at(start, std::min(batch_rows_, values_.size(0) - start));
    const auto canonical = torch::where(torch::isnan(rows), torch::full({}, NAN, rows.options()), rows).contiguous();
    const std::string_view raw(static_cast<const char*>(canonical.data_ptr()), static_cast<size_t>(canonical.nbytes()));
    hash = hash * 1099511628211ULL ^ std::hash<std::string_view>{}(raw);
  }
  std::ostringstream out;
  out << std::hex << hash << "-" << values_.size(0) << "x" << columns_.size();
  return out.str();
}


}  // namespace safetrain::data
