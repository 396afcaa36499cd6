// prepare_mapped: prepare()'s steps over a mapped table, written into a second mapped cache file.
#include <array>
#include <functional>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/data/mapped_storage.hpp"
#include "prepare_steps.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

constexpr int64_t kGatherRows = 8192;  // source rows gathered at a time while the prepared cache is written
constexpr const char* kSplitNames[] = {"training", "validation", "test"};

struct Layout {  // the prepared cache: X [n, F] | Y [n, T] | row ids [n], splits back to back
  std::array<int64_t, 3> counts{};
  int64_t features = 0, targets = 0;
  int64_t rows() const { return counts[0] + counts[1] + counts[2]; }
  int64_t start(int split) const { return split_start(counts, split); }
  int64_t x_bytes() const { return aligned_block_bytes({rows(), features}, torch::kFloat); }
  int64_t y_bytes() const { return aligned_block_bytes({rows(), targets}, torch::kFloat); }
  int64_t bytes() const { return x_bytes() + y_bytes() + aligned_block_bytes({rows()}, torch::kLong); }
};

std::string prepared_key(const MappedTable& t, const PreparedData& names, const SplitOptions& o) {
  std::ostringstream text;
  text << "prepared-v1;" << t.key << ';' << static_cast<int>(o.nan_policy) << ';' << o.standardize_targets << ';';
  for (const auto& n : names.feature_names) text << n << '\x1f';
  text << ';';
  for (const auto& n : names.target_names) text << n << '\x1f';
  std::ostringstream out;
  out << std::hex << std::hash<std::string>{}(text.str());
  return out.str();
}

template <typename Tensors>
void make_splits(PreparedData& out, const Layout& layout, const Tensors& x, const Tensors& y, const Tensors& ids) {
  SplitTensors* parts[] = {&out.train, &out.val, &out.test};
  for (int s = 0; s < 3; ++s) {
    const int64_t start = layout.start(s), n = layout.counts[static_cast<size_t>(s)];
    *parts[s] = {x.narrow(0, start, n), y.narrow(0, start, n), ids.narrow(0, start, n)};
  }
}

// Source rows (positions in the mapped table) of each split that the missing-value policy keeps.
std::array<torch::Tensor, 3> kept_rows(const MappedTable& t, const std::vector<int64_t>& fcols,
                                       const std::vector<int64_t>& tcols, const SplitOptions& o,
                                       std::vector<float>& fill) {
  std::array<torch::Tensor, 3> kept;
  for (int s = 0; s < 3; ++s) {
    const int64_t start = split_start(t.counts, s);
    kept[static_cast<size_t>(s)] = torch::arange(start, start + t.counts[static_cast<size_t>(s)], torch::kLong);
  }
  if (o.nan_policy == NanPolicy::error) return kept;
  if (o.nan_policy == NanPolicy::fill_mean) fill = detail::present_means(t.values, fcols, kept[0]);
  auto required = tcols;  // as prepare(): targets are never invented, features are under fill_mean
  if (o.nan_policy == NanPolicy::drop_rows) required.insert(required.end(), fcols.begin(), fcols.end());
  int64_t dropped = 0;
  for (auto& rows : kept) {
    const int64_t before = rows.size(0);
    rows = detail::complete_rows(t.values, required, rows);
    dropped += before - rows.size(0);
  }
  if (dropped > 0) log::info("data: dropped ", dropped, " rows with missing values (data.nan_policy)");
  return kept;
}

// Gathers the kept rows' features, targets and row ids into the writer's blocks, a few thousand rows at a time.
void gather(const MappedTable& t, const std::array<torch::Tensor, 3>& kept, const std::vector<int64_t>& fcols,
            const std::vector<int64_t>& tcols, torch::Tensor& x, torch::Tensor& y, torch::Tensor& ids) {
  const auto f = torch::tensor(fcols, torch::kLong), c = torch::tensor(tcols, torch::kLong);
  int64_t at = 0;
  for (const auto& rows : kept) {
    for (int64_t i = 0; i < rows.size(0); i += kGatherRows) {
      throw_if_stop_requested("while preparing the mapped table");
      const auto index = rows.narrow(0, i, std::min(kGatherRows, rows.size(0) - i));
      const auto block = t.values.index_select(0, index);
      const int64_t n = index.size(0);
      x.narrow(0, at, n).copy_(block.index_select(1, f));
      y.narrow(0, at, n).copy_(block.index_select(1, c));
      ids.narrow(0, at, n).copy_(t.row_ids.index_select(0, index));
      at += n;
    }
  }
}

std::vector<float> values_of(const torch::Tensor& t) {
  const auto c = t.contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

void build_prepared(const fs::path& file, const MappedTable& t, const std::vector<int64_t>& fcols,
                    const std::vector<int64_t>& tcols, const SplitOptions& o, PreparedData& out) {
  std::vector<float> fill;
  const auto kept = kept_rows(t, fcols, tcols, o, fill);
  Layout layout;
  for (size_t s = 0; s < 3; ++s) layout.counts[s] = kept[s].size(0);
  layout.features = static_cast<int64_t>(fcols.size());
  layout.targets = static_cast<int64_t>(tcols.size());
  MappedFileWriter writer(file, layout.bytes());
  auto x = writer.tensor(0, {layout.rows(), layout.features}, torch::kFloat);
  auto y = writer.tensor(layout.x_bytes(), {layout.rows(), layout.targets}, torch::kFloat);
  auto ids = writer.tensor(layout.x_bytes() + layout.y_bytes(), {layout.rows()}, torch::kLong);
  gather(t, kept, fcols, tcols, x, y, ids);
  make_splits(out, layout, x, y, ids);
  SplitTensors* parts[] = {&out.train, &out.val, &out.test};
  for (int s = 0; s < 3; ++s) {
    if (o.nan_policy == NanPolicy::fill_mean) detail::fill_missing(parts[s]->x, fill);
    if (o.nan_policy != NanPolicy::error) continue;
    detail::refuse_missing(parts[s]->x, out.feature_names, parts[s]->row_ids, "feature", kSplitNames[s], t.source);
    detail::refuse_missing(parts[s]->y, out.target_names, parts[s]->row_ids, "target", kSplitNames[s], t.source);
  }
  detail::require_training_rows(out.train.size());
  detail::warn_constant_targets(out.train.y, out.target_names);
  detail::warn_constant_features(out.train.x, out.feature_names);
  if (o.standardize_targets) detail::check_target_outliers(out.train.y, out.target_names, out.train.row_ids, t.source);
  out.feature_scaler = Standardizer::fit(out.train.x);
  out.target_scaler = o.standardize_targets ? Standardizer::fit(out.train.y) : Standardizer::identity(layout.targets);
  for (auto* s : parts) {  // in place, in the file
    s->x.sub_(out.feature_scaler.mean).div_(out.feature_scaler.std);
    s->y.sub_(out.target_scaler.mean).div_(out.target_scaler.std);
  }
  writer.commit({{"kind", "prepared"}, {"table_key", t.key}, {"features", out.feature_names}, {"targets", out.target_names},
                 {"counts", layout.counts}, {"feature_mean", values_of(out.feature_scaler.mean)},
                 {"feature_std", values_of(out.feature_scaler.std)}, {"target_mean", values_of(out.target_scaler.mean)},
                 {"target_std", values_of(out.target_scaler.std)}});
}

PreparedData open_prepared(const MappedFile& file, const PreparedData& names) {
  const auto& f = file.footer();
  if (f.value("kind", "") != "prepared" || f.at("features") != names.feature_names || f.at("targets") != names.target_names) {
    throw std::runtime_error("not the prepared cache of these columns");
  }
  Layout layout;
  layout.counts = f.at("counts").get<std::array<int64_t, 3>>();
  layout.features = static_cast<int64_t>(names.feature_names.size());
  layout.targets = static_cast<int64_t>(names.target_names.size());
  PreparedData out;
  out.feature_names = names.feature_names;
  out.target_names = names.target_names;
  const auto x = file.tensor(0, {layout.rows(), layout.features}, torch::kFloat);
  const auto y = file.tensor(layout.x_bytes(), {layout.rows(), layout.targets}, torch::kFloat);
  const auto ids = file.tensor(layout.x_bytes() + layout.y_bytes(), {layout.rows()}, torch::kLong);
  make_splits(out, layout, x, y, ids);
  const auto vector = [&](const char* key) { return torch::tensor(f.at(key).get<std::vector<float>>(), torch::kFloat); };
  out.feature_scaler = {vector("feature_mean"), vector("feature_std")};
  out.target_scaler = {vector("target_mean"), vector("target_std")};
  return out;
}

}  // namespace

PreparedData prepare_mapped(const MappedTable& t, const ColumnSelection& selection, const SplitOptions& o,
                            const fs::path& cache_dir) {
  Table names_only;  // column names and source: what choosing columns needs
  names_only.columns = t.columns;
  names_only.source = t.source;
  PreparedData names;
  names.target_names = resolve_targets(names_only, selection);
  names.feature_names = selection.features.empty() ? detail::default_features(names_only, names.target_names, selection)
                                                   : selection.features;
  if (names.feature_names.empty()) throw InputError("data.features: no feature columns left in " + t.source);
  const auto fcols = detail::column_indices(names_only, names.feature_names, "data.features");
  const auto tcols = detail::column_indices(names_only, names.target_names, "data.targets");
  const auto file = cache_dir / (prepared_key(t, names, o) + ".prepared");
  const auto mapped = open_or_build(
      file, [&](const MappedFile& f) { open_prepared(f, names); },
      [&] {
        PreparedData building = names;
        build_prepared(file, t, fcols, tcols, o, building);
      });
  return open_prepared(*mapped, names);
}

}  // namespace safetrain::data
