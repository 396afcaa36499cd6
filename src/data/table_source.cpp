#include "safetrain/data/table_source.hpp"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "table_formats.hpp"

namespace fs = std::filesystem;

namespace safetrain::data {
namespace {


// A table is read at least twice (rows counted or its schema read, then parsed): a FIFO, a character device
// (/dev/zero, /dev/stdin) or a directory cannot be, and /dev/zero would never end.
void refuse_non_regular(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return;  // a missing file is refused when opened
  if (S_ISDIR(st.st_mode)) {
    throw InputError(file.string() + ": is a directory among a glob's matches; name the directory alone to read its files");
  }
  const char* kind = S_ISFIFO(st.st_mode)                          ? "a FIFO (named pipe)"
                     : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                   : "not a regular file";
  throw InputError(file.string() + ": is " + std::string(kind) +
                   "; a table must be a regular file (it is read more than once), so save the stream to a file first");
}

// A dataset directory as Spark, Dask and pyarrow.dataset write one: its files at any depth (partition folders
// such as year=2024), sorted, without the names pyarrow.dataset ignores (_SUCCESS, _metadata, .crc files: a
// leading '_' or '.').
std::vector<fs::path> dataset_files(const fs::path& directory) {
  std::vector<fs::path> files;
  bool partitioned = false;
  for (auto it = fs::recursive_directory_iterator(directory); it != fs::recursive_directory_iterator(); ++it) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '_' || name[0] == '.') {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory()) partitioned = partitioned || name.find('=') != std::string::npos;
    if (it->is_regular_file()) files.push_back(it->path());
  }
  if (files.empty()) {
    throw InputError(directory.string() + ": a directory with no table files (names that start with _ or . are not "
                     "read); name a file or a glob");
  }
  std::sort(files.begin(), files.end());
  note_once("data: " + directory.string() + " is a directory: its " + std::to_string(files.size()) + " file(s) are the table" +
            (partitioned ? " (partition folders such as key=value are not read as columns)" : ""));
  return files;
}

}  // namespace

bool contains_name(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void note_once(const std::string& text) {
  static std::mutex mutex;
  static std::set<std::string> said;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (!said.insert(text).second) return;
  }
  log::info(text);
}

bool name_ends_with(const std::string& name, const std::string& tail) {
  return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
}

int64_t column_index(const Table& table, const std::string& name) {
  const auto found = std::find(table.columns.begin(), table.columns.end(), name);
  return found == table.columns.end() ? -1 : found - table.columns.begin();
}

std::vector<fs::path> expand_glob(const std::string& pattern) {
  glob_t matches{};
  const int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &matches);
  std::vector<fs::path> files;
  if (rc == 0) {
    for (size_t i = 0; i < matches.gl_pathc; ++i) files.emplace_back(matches.gl_pathv[i]);
  }
  globfree(&matches);
  if (files.empty()) throw InputError(pattern + ": no such file (or no file matches the pattern)");
  if (files.size() == 1 && fs::is_directory(files[0])) return dataset_files(files[0]);
  std::sort(files.begin(), files.end());
  for (const auto& file : files) refuse_non_regular(file);
  return files;
}

bool is_required_numeric(const CsvColumnRoles& roles, const std::string& name) {
  return contains_name(roles.numeric, name) ||
         (!roles.numeric_prefix.empty() && name.rfind(roles.numeric_prefix, 0) == 0);
}

void check_roles_present(const CsvColumnRoles& roles, const std::vector<std::string>& header, const fs::path& file) {
  for (const auto* list : {&roles.id_columns, &roles.ignore_columns}) {
    for (const auto& name : *list) {
      if (contains_name(header, name)) continue;
      throw InputError(std::string(list == &roles.id_columns ? "data.id_columns" : "data.ignore_columns") +
                       ": column '" + name + "' is not in " + file.string());
    }
  }
}

void check_same_columns(const std::vector<std::string>& first, const std::vector<std::string>& other,
                        const fs::path& first_file, const fs::path& other_file) {
  if (first == other) return;
  size_t c = 0;
  while (c < other.size() && c < first.size() && other[c] == first[c]) ++c;
  throw InputError(other_file.string() + ":1:" + std::to_string(c + 1) + ": header differs from " +
                   first_file.string() + " (column " + std::to_string(c + 1) + ": '" +
                   (c < other.size() ? other[c] : "<none>") + "' vs '" + (c < first.size() ? first[c] : "<none>") +
                   "'); every file of a glob must have the same columns");
}

void TableSource::set_batch_rows(int64_t rows) {
  if (rows < 1) throw InputError("descriptors.batch_rows: " + std::to_string(rows) + " is below 1");
  batch_rows_ = rows;
}

std::optional<torch::Tensor> TableSource::next_batch() {
  auto values = torch::empty({batch_rows_, static_cast<int64_t>(columns_.size())});
  const int64_t rows = read_rows(values.data_ptr<float>(), batch_rows_, nullptr);
  if (rows == 0) return std::nullopt;
  return rows == batch_rows_ ? values : values.narrow(0, 0, rows).clone();
}

int64_t TableSource::read_columns(float*, int64_t) {
  throw std::logic_error(name_ + ": this format has no column-wise read (reads_columns() is false)");
}

std::vector<int64_t> TableSource::positions_of(const std::vector<std::string>& names) const {
  std::vector<int64_t> positions;
  for (const auto& name : names) {
    const auto at = std::find(columns_.begin(), columns_.end(), name);
    if (at == columns_.end()) throw InputError(name_ + ": column '" + name + "' is not a numeric column read from it");
    const int64_t position = at - columns_.begin();
    if (std::find(positions.begin(), positions.end(), position) != positions.end()) {
      throw InputError(name_ + ": column '" + name + "' is asked for twice");
    }
    positions.push_back(position);
  }
  return positions;
}

CsvColumnRoles projection_roles(const std::vector<std::string>& numeric_columns) {
  CsvColumnRoles roles;
  roles.numeric = numeric_columns;
  roles.only_numeric = true;
  return roles;
}

std::string TableSource::fingerprint() const {
  std::ostringstream out;
  for (const auto& f : files_) {
    out << f.string() << ":" << fs::file_size(f) << ":" << fs::last_write_time(f).time_since_epoch().count() << ";";
  }
  for (const auto& c : columns_) out << c << '\x1f';
  std::ostringstream hashed;
  hashed << std::hex << std::hash<std::string>{}(out.str());
  return hashed.str();
}

}  // namespace safetrain::data
