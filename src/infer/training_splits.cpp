#include "safetrain/infer/training_splits.hpp"

#include <sys/stat.h>

#include <array>

#include "safetrain/config/config.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/data/prepare.hpp"
#include "safetrain/data/table_source.hpp"

namespace fs = std::filesystem;

namespace safetrain::infer {
namespace {

// How the files of `input` match the recorded ones: nullopt when any differs in name or size.
std::optional<std::string> matching_files(const nlohmann::json& recorded, const std::string& input) {
  if (!recorded.is_array() || recorded.empty()) return std::nullopt;
  const auto now = data::expand_glob(input);
  if (now.size() != recorded.size()) return std::nullopt;
  bool same_time = true;
  for (size_t i = 0; i < now.size(); ++i) {
    struct stat info {};
    if (!recorded[i].is_object() || ::stat(now[i].c_str(), &info) != 0) return std::nullopt;
    const fs::path then = recorded[i].value("path", std::string());
    if (then.filename() != now[i].filename() || recorded[i].value("size", int64_t{-1}) != info.st_size) {
      return std::nullopt;
    }
    const int64_t mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
    same_time = same_time && recorded[i].value("mtime_ns", int64_t{-1}) == mtime_ns;
  }
  return same_time ? std::string("the same file(s), size and time, as recorded in the checkpoint")
                   : std::string("file(s) of the same name and size as recorded in the checkpoint (a copy?)");
}

// The input once more with only the own-split column read (as text), for data::split_table.
data::Table with_split_column(const PredictionInput& how, const std::string& input, const data::SplitOptions& o) {
  auto roles = how.roles;
  roles.id_columns = {o.split_column.empty() ? o.group_column : o.split_column};
  return data::read_table(input, how.read, roles);
}

}  // namespace

std::optional<TrainingSplits> training_splits(const CheckpointMeta& meta, const std::string& input,
                                             const PredictionInput& read_as, int64_t rows) {
  const auto& data = meta.component("data");
  // An older checkpoint records no input; a damaged record is no match either (predict still predicts).
  if (!data.contains("input") || !data["input"].is_object()) return std::nullopt;
  auto how = matching_files(data["input"].value("files", nlohmann::json::array()), input);
  if (!how) return std::nullopt;
  const auto resolved = config::resolve_from_text(meta.config_yaml, (meta.dir / "config.yaml").string());
  const auto config = config::make_config(resolved.tree, resolved.file.string());
  data::SplitOptions options = config.data.split;
  options.seed = config.seed;  // the trainer's own split (data module: split_options): fractions and seed
  const bool own = !options.split_column.empty() || !options.group_column.empty();
  // Own splits follow a column predict's read leaves out (a new table need not hold it): read it again here.
  const auto split = own ? data::split_table(with_split_column(read_as, input, options), options)
                         : data::split_indices(rows, options);
  const auto recorded = data["input"].value("split_rows", nlohmann::json::array());
  // Rows with a missing value may have left the splits (nan_policy), never joined them: the counts only shrink.
  if (!recorded.is_array() || recorded.size() != 3) return std::nullopt;
  const std::array<int64_t, 3> counts = {split.train.size(0), split.val.size(0), split.test.size(0)};
  for (size_t s = 0; s < 3; ++s) {
    if (!recorded[s].is_number_integer() || recorded[s].get<int64_t>() > counts[s]) return std::nullopt;
  }
  TrainingSplits out{*how, std::vector<int8_t>(static_cast<size_t>(rows), -1)};
  const torch::Tensor* parts[] = {&split.train, &split.val, &split.test};
  for (int8_t s = 0; s < 3; ++s) {
    const auto ids = parts[s]->contiguous();
    for (int64_t i = 0; i < ids.numel(); ++i) out.split_of_row[static_cast<size_t>(ids.data_ptr<int64_t>()[i])] = s;
  }
  return out;
}

void score_training_splits(const TrainingSplits& splits, Predictions& p) {
  p.training_table = splits.how;
  p.split_of_row.clear();
  std::vector<std::vector<int64_t>> members(3);
  for (size_t r = 0; r < p.row_ids.size(); ++r) {
    const auto row = static_cast<size_t>(p.row_ids[r]);
    const int8_t s = row < splits.split_of_row.size() ? splits.split_of_row[row] : -1;
    p.split_of_row.push_back(s);
    if (s >= 0) members[static_cast<size_t>(s)].push_back(static_cast<int64_t>(r));
  }
  if (!p.truth.defined()) return;
  for (size_t s = 0; s < 3; ++s) {
    const auto index = torch::tensor(members[s], torch::kLong);
    const auto truth = p.truth.index_select(0, index);
    const auto scored = torch::isnan(truth).any(1).logical_not();
    eval::StreamingMetrics metrics(p.target_names, p.target_scales);
    metrics.update(p.values.index_select(0, index).index({scored}), truth.index({scored}));
    p.split_metrics.emplace_back(kPredictionSplitNames[s], std::move(metrics));
  }
}

}  // namespace safetrain::infer
