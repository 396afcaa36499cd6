#include "safetrain/data/mapped_storage.hpp"

#include <signal.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <sstream>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/error.hpp"
#include "missing_cells.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/stop_signals.hpp"
#include "safetrain/data/table_source.hpp"
#include "prepare_steps.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {

std::string hashed(const std::string& text) {
  std::ostringstream out;
  out << std::hex << std::hash<std::string>{}(text);
  return out.str();
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += n + '\x1f';
  return out;
}

// Each input file's absolute path and its version (size and modification time).
nlohmann::json input_versions(const std::vector<fs::path>& files) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : files) {
    out.push_back({{"path", fs::absolute(f).string()},
                   {"version", std::to_string(fs::file_size(f)) + ":" +
                                   std::to_string(fs::last_write_time(f).time_since_epoch().count())}});
  }
  return out;
}

// Everything that shapes the table cache: the input files (path, size, modification time), the columns the
// reader keeps, and the split.
std::string table_key(const std::vector<fs::path>& files, const TableReadOptions& read, const CsvColumnRoles& roles,
                      const SplitOptions& o) {
  std::ostringstream text;
  text << "table-v2;" << input_versions(files).dump() << ';' << name_of(read.format) << ';' << read.csv.delimiter
       << ';' << read.csv.quote << ';';
  text << join(roles.ignore_columns) << ';' << join(roles.numeric) << ';' << roles.numeric_prefix << ';'
       << roles.only_numeric << ';' << o.train_fraction << ',' << o.val_fraction << ',' << o.test_fraction << ';' << o.seed;
  return hashed(text.str());
}

// Source rows -> their position in split order (train, then val, then test), -1 for rows in no split.
std::vector<int64_t> split_positions(int64_t rows, const SplitOptions& o, std::array<int64_t, 3>& counts) {
  // The config refuses the own-split columns with data.storage: mmap (they are text, the cache holds numbers).
  if (!o.split_column.empty() || !o.group_column.empty()) {
    throw InputError("data.split_column / data.group_column: not supported with data.storage: mmap; use "
                     "data.storage: memory");
  }
  const auto split = split_indices(rows, o);
  std::vector<int64_t> position(static_cast<size_t>(rows), -1);
  int64_t at = 0, s = 0;
  for (const auto* part : {&split.train, &split.val, &split.test}) {
    const auto* r = part->data_ptr<int64_t>();
    for (int64_t i = 0; i < part->numel(); ++i) position[static_cast<size_t>(r[i])] = at++;
    counts[static_cast<size_t>(s++)] = part->numel();
  }
  return position;
}

// Streams the table into `file`, each row to its split position; returns the rows read. A CSV's row count is
// an upper bound (its data lines): when fewer rows parse, nothing is committed and the caller builds again
// with the true count, so the split equals the in-memory path's.
int64_t build_table(const fs::path& file, TableSource& source, const SplitOptions& o, int64_t rows,
                    const nlohmann::json& identity, const detail::MissingCellCheck& missing) {
  source.rewind();
  const auto width = static_cast<int64_t>(source.columns().size());
  std::array<int64_t, 3> counts{};
  const auto position = split_positions(rows, o, counts);
  const int64_t used = counts[0] + counts[1] + counts[2];
  const int64_t value_bytes = aligned_block_bytes({used, width}, torch::kFloat);
  MappedFileWriter writer(file, value_bytes + aligned_block_bytes({used}, torch::kLong));
  float* values = writer.tensor(0, {used, width}, torch::kFloat).data_ptr<float>();
  int64_t* ids = writer.tensor(value_bytes, {used}, torch::kLong).data_ptr<int64_t>();
  constexpr int64_t kChunk = 1024;
  std::vector<float> chunk(static_cast<size_t>(kChunk * width));
  int64_t read = 0;
  for (int64_t n; (n = source.read_rows(chunk.data(), kChunk, nullptr)) > 0;) {
    if (read + n > rows) throw IoError(source.name() + ": more rows than counted; did the input change while it was read?");
    if (read / (1 << 20) != (read + n) / (1 << 20)) log::info("data: converted ", read + n, " of ", rows, " rows");
    missing.check(chunk.data(), n, read);  // the same refusal as read_table's, during the one conversion pass
    for (int64_t r = 0; r < n; ++r, ++read) {
      const int64_t p = position[static_cast<size_t>(read)];
      if (p < 0) continue;
      std::memcpy(values + p * width, chunk.data() + r * width, static_cast<size_t>(width) * sizeof(float));
      ids[p] = read;
    }
  }
  if (read != rows) return read;
  nlohmann::json footer = identity;
  footer.update({{"kind", "table"}, {"columns", source.columns()}, {"counts", counts}, {"rows", rows}});
  writer.commit(std::move(footer));
  return read;
}

MappedTable open_table(const MappedFile& file, const std::string& source, const std::string& key) {
  const auto& f = file.footer();
  if (f.value("kind", "") != "table") throw std::runtime_error("not a table cache");
  MappedTable t;
  t.columns = f.at("columns").get<std::vector<std::string>>();
  t.counts = f.at("counts").get<std::array<int64_t, 3>>();
  const int64_t used = t.counts[0] + t.counts[1] + t.counts[2];
  const auto width = static_cast<int64_t>(t.columns.size());
  t.values = file.tensor(0, {used, width}, torch::kFloat);
  t.row_ids = file.tensor(aligned_block_bytes({used, width}, torch::kFloat), {used}, torch::kLong);
  t.source = source;
  t.key = key;
  return t;
}

// Caches of an older version of the same input files (same paths, another size or modification time) can never
// be used again: removed, with the prepared caches made from them, once the new table cache exists.
void remove_stale_caches(const fs::path& cache_dir, const nlohmann::json& inputs, const std::string& key) {
  std::vector<std::string> paths;
  for (const auto& input : inputs) paths.push_back(input.at("path"));
  std::set<std::string> stale_keys;
  std::vector<fs::path> prepared;
  std::error_code ignored;  // housekeeping: a cache that cannot be removed stays, the run goes on
  for (const auto& entry : fs::directory_iterator(cache_dir)) {
    if (entry.path().extension() == ".prepared") prepared.push_back(entry.path());
    if (entry.path().extension() != ".table") continue;
    const auto footer = read_footer(entry.path());
    if (!footer || footer->value("key", key) == key || !footer->contains("inputs")) continue;
    std::vector<std::string> theirs;
    for (const auto& input : footer->at("inputs")) theirs.push_back(input.value("path", ""));
    if (theirs != paths || footer->at("inputs") == inputs) continue;
    stale_keys.insert(footer->value("key", ""));
    fs::remove(entry.path(), ignored);
  }
  for (const auto& file : prepared) {
    const auto footer = read_footer(file);
    if (footer && stale_keys.count(footer->value("table_key", ""))) fs::remove(file, ignored);
  }
  if (!stale_keys.empty()) {
    log::info("data: removed ", stale_keys.size(), " table cache(s) of an older version of ", paths.front(),
              paths.size() > 1 ? " and the other input files" : "", ", with the prepared caches made from them");
  }
}

}  // namespace

torch::Tensor MappedTable::split_values(int split) const {
  return values.narrow(0, split_start(counts, split), counts[static_cast<size_t>(split)]);
}

torch::Tensor MappedTable::split_row_ids(int split) const {
  return row_ids.narrow(0, split_start(counts, split), counts[static_cast<size_t>(split)]);
}

MappedTable map_source_table(const std::string& path_or_glob, const TableReadOptions& read,
                             const CsvColumnRoles& roles, const SplitOptions& o, const fs::path& cache_dir) {
  // The config refuses data.id_columns with data.storage: mmap (the cache holds numbers only).
  if (!roles.id_columns.empty()) throw std::invalid_argument("map_source_table: id columns are not carried");
  const auto files = expand_glob(path_or_glob);
  const auto key = table_key(files, read, roles, o);
  fs::create_directories(cache_dir);
  const auto file = cache_dir / (key + ".table");
  const auto open_as = [&](const MappedFile& f) { return open_table(f, path_or_glob, key); };
  remove_abandoned_temporaries(cache_dir);
  const nlohmann::json identity = {{"key", key}, {"inputs", input_versions(files)}};
  const auto mapped = open_or_build(file, open_as, [&] {
    const auto source = open_table_source(path_or_glob, read, roles);
    const int64_t rows = source->row_count().value_or(source->row_upper_bound());
    log::info("data: converting ", path_or_glob, " (", rows, " rows) into ", file.string(),
              " for data.storage: mmap, once per input");
    const detail::MissingCellCheck missing(source->columns(), roles, path_or_glob, read);
    const int64_t converted = build_table(file, *source, o, rows, identity, missing);
    if (converted != rows && build_table(file, *source, o, converted, identity, missing) != converted) {
      throw IoError(path_or_glob + ": the input changed while it was being converted");
    }
    remove_stale_caches(cache_dir, identity.at("inputs"), key);
  });
  return open_table(*mapped, path_or_glob, key);
}

}  // namespace safetrain::data
