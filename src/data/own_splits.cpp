// The splits of a table: the user's own (data.split_column labels, data.group_column groups) or the seeded
// random rows of split_indices. One entry point, split_table, for the trainer and any re-split of the same table.
#include <string>
#include <unordered_map>
#include <vector>

#include "safetrain/common/error.hpp"
#include "safetrain/common/text.hpp"
#include "safetrain/data/prepare.hpp"
#include "row_location.hpp"

namespace safetrain::data {
namespace {

constexpr const char* kSplitKey = "data.split_column";
constexpr const char* kGroupKey = "data.group_column";

const std::vector<std::string>& text_column(const Table& table, const std::string& name, const char* key) {
  for (size_t c = 0; c < table.ids.names.size() && c < table.ids.values.size(); ++c) {
    if (table.ids.names[c] != name) continue;
    if (static_cast<int64_t>(table.ids.values[c].size()) != table.values.size(0)) break;
    return table.ids.values[c];
  }
  throw InputError(std::string(key) + ": column '" + name + "' was not read as text from " + table.source);
}

torch::Tensor as_tensor(const std::vector<int64_t>& rows) {
  return torch::tensor(rows, torch::kLong).reshape({static_cast<int64_t>(rows.size())});
}

// Labels train / val / test (surrounding blanks ignored); anything else is refused with its file location.
SplitIndices by_label(const Table& table, const std::string& column) {
  const auto& labels = text_column(table, column, kSplitKey);
  std::vector<int64_t> parts[3];
  for (size_t r = 0; r < labels.size(); ++r) {
    const std::string label = text::trim(labels[r]);
    const int which = label == "train" ? 0 : label == "val" ? 1 : label == "test" ? 2 : -1;
    if (which < 0) {
      throw InputError(detail::cell_location(table.source, static_cast<int64_t>(r), column) + ": " + kSplitKey +
                       ": value '" + label + "' is not one of train, val, test");
    }
    parts[which].push_back(static_cast<int64_t>(r));
  }
  return {as_tensor(parts[0]), as_tensor(parts[1]), as_tensor(parts[2])};
}

// Groups in seeded random order fill train, then val, then test: a group goes where the middle of its rows
// falls on the cumulative fraction line, so the fractions hold to within about half a group each.
SplitIndices by_group(const Table& table, const std::string& column, const SplitOptions& o) {
  const auto& names = text_column(table, column, kGroupKey);
  std::unordered_map<std::string, size_t> group_of;
  std::vector<std::vector<int64_t>> members;
  for (size_t r = 0; r < names.size(); ++r) {
    const std::string name = text::trim(names[r]);
    if (name.empty()) {
      throw InputError(detail::cell_location(table.source, static_cast<int64_t>(r), column) + ": " + kGroupKey +
                       ": empty group name (every row needs a group)");
    }
    const auto [at, added] = group_of.emplace(name, members.size());
    if (added) members.emplace_back();
    members[at->second].push_back(static_cast<int64_t>(r));
  }
  const auto rows = static_cast<double>(names.size());
  const double ends[3] = {o.train_fraction * rows, (o.train_fraction + o.val_fraction) * rows,
                          (o.train_fraction + o.val_fraction + o.test_fraction) * rows};
  auto generator = at::detail::createCPUGenerator(o.seed);
  const auto order = torch::randperm(static_cast<int64_t>(members.size()), generator, torch::kLong);
  std::vector<int64_t> parts[3];
  double done = 0;
  for (int64_t k = 0; k < order.numel(); ++k) {
    const auto& group = members[static_cast<size_t>(order[k].item<int64_t>())];
    const double middle = done + static_cast<double>(group.size()) / 2;
    done += static_cast<double>(group.size());
    for (int which = 0; which < 3; ++which) {
      if (middle >= ends[which]) continue;
      parts[which].insert(parts[which].end(), group.begin(), group.end());
      break;
    }
  }
  return {as_tensor(parts[0]), as_tensor(parts[1]), as_tensor(parts[2])};
}

}  // namespace

SplitIndices split_table(const Table& table, const SplitOptions& o) {
  if (!o.split_column.empty() && !o.group_column.empty()) {
    throw InputError(std::string(kSplitKey) + " and " + kGroupKey + ": set one of them");
  }
  if (!o.split_column.empty()) return by_label(table, o.split_column);
  if (o.group_column.empty()) return split_indices(table.values.size(0), o);
  check_split_fractions(o);
  return by_group(table, o.group_column, o);
}

}  // namespace safetrain::data
