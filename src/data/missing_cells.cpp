#include "missing_cells.hpp"

#include <cmath>

#include "row_location.hpp"
#include "safetrain/common/error.hpp"

namespace safetrain::data::detail {

MissingCellCheck::MissingCellCheck(const std::vector<std::string>& columns, const CsvColumnRoles& roles,
                                   std::string source, TableReadOptions read)
    : columns_(columns), source_(std::move(source)), read_(std::move(read)) {
  using Missing = CsvColumnRoles::MissingCells;
  if (roles.missing == Missing::allowed) return;
  for (size_t c = 0; c < columns.size(); ++c) {
    const auto& name = columns[c];
    const bool by_prefix = !roles.numeric_prefix.empty() && name.rfind(roles.numeric_prefix, 0) == 0;
    bool required = by_prefix;
    for (const auto& listed : roles.numeric) required = required || listed == name;
    // Every column is a feature: all but the target-like ones, which are never features unless listed.
    const bool feature = roles.missing == Missing::refused_in_all && name.rfind(kTargetLikePrefix, 0) != 0;
    if (required || feature) checked_.push_back(static_cast<int64_t>(c));
  }
}

void MissingCellCheck::check(const float* rows, int64_t n, int64_t first_row) const {
  const auto width = static_cast<int64_t>(columns_.size());
  for (int64_t r = 0; r < n; ++r) {
    for (const int64_t c : checked_) {
      if (!std::isnan(rows[r * width + c])) continue;
      const auto& name = columns_[static_cast<size_t>(c)];
      throw InputError(cell_location(source_, first_row + r, name, read_) + ": missing value in column '" + name +
                       "', which the run uses (data.nan_policy: error); set data.nan_policy to drop_rows or "
                       "fill_mean (a row missing a target is dropped under either)");
    }
  }
}

}  // namespace safetrain::data::detail
