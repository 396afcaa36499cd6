#include "safetrain/train/run_files.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/checked_write.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/run_layout.hpp"
#include "safetrain/train/callback.hpp"

namespace fs = std::filesystem;

namespace safetrain::train {

fs::path create_run_dir(const std::string& output_dir, const std::string& run_name) {
  if (!run_name.empty()) check_run_name(run_name);
  std::string name = run_name;
  if (name.empty()) {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    name = stamp;
  }
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  if (ec) throw InputError("output.dir: cannot create '" + output_dir + "': " + ec.message());
  fs::path dir = fs::path(output_dir) / name;
  // Never write into an earlier run: a taken name gets -2, -3, ...
  for (int suffix = 2; fs::exists(dir); ++suffix) dir = fs::path(output_dir) / (name + "-" + std::to_string(suffix));
  RunLayout(dir).create_directories();
  return dir;
}

namespace {

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  size_t start = 0;
  for (size_t comma = line.find(','); comma != std::string::npos; comma = line.find(',', start)) {
    cells.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
  cells.push_back(line.substr(start));
  return cells;
}

std::string join_cells(const std::vector<std::string>& cells) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) line += (i > 0 ? "," : "") + cells[i];
  return line;
}

// The first cell is the epoch; a row that does not start with one is not ours to keep.
bool row_of_epoch_up_to(const std::string& line, int64_t keep_epochs_up_to) {
  long long epoch = 0;
  const size_t end = std::min(line.find(','), line.size());
  const auto [stop, ec] = std::from_chars(line.data(), line.data() + end, epoch);
  return ec == std::errc() && stop == line.data() + end && epoch <= keep_epochs_up_to;
}

// The rows a resumed run keeps, their cells moved under `columns` by the names of the file's header.
std::vector<std::string> kept_rows(std::ifstream& in, int64_t keep_epochs_up_to, std::vector<std::string>& columns) {
  std::string line;
  std::getline(in, line);
  const auto header = split_cells(line);
  for (const auto& name : header) {
    if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
  }
  std::vector<std::string> kept;
  while (std::getline(in, line)) {
    if (line.empty() || !row_of_epoch_up_to(line, keep_epochs_up_to)) continue;
    const auto cells = split_cells(line);
    std::vector<std::string> moved(columns.size());
    for (size_t i = 0; i < cells.size() && i < header.size(); ++i) {
      moved[std::find(columns.begin(), columns.end(), header[i]) - columns.begin()] = cells[i];
    }
    kept.push_back(join_cells(moved));
  }
  return kept;
}

std::string cell(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

}  // namespace

MetricsLog::MetricsLog(const fs::path& csv, int64_t keep_epochs_up_to, const std::vector<std::string>& target_names)
    : path_(csv), columns_(std::begin(kMetricsColumns), std::end(kMetricsColumns)) {
  for (auto& column : metrics_target_columns(target_names)) columns_.push_back(std::move(column));
  std::vector<std::string> kept;
  if (keep_epochs_up_to >= 0 && fs::exists(csv)) {
    std::ifstream in(csv);
    kept = kept_rows(in, keep_epochs_up_to, columns_);
  }
  file_ = std::make_unique<CheckedFile>(csv, CheckedFile::Mode::kTruncate);
  std::string text = join_cells(columns_) + "\n";
  for (const auto& line : kept) text += line + "\n";
  file_->write(text);
}

MetricsLog::~MetricsLog() = default;

void MetricsLog::add_columns(const std::vector<std::string>& added) {
  std::ifstream in(path_);
  std::string line, text;
  std::getline(in, line);
  for (const auto& name : added) columns_.push_back(name);
  text = join_cells(columns_) + "\n";
  const std::string padding(added.size(), ',');
  while (std::getline(in, line)) {
    if (!line.empty()) text += line + padding + "\n";
  }
  in.close();
  file_->close();
  write_file_atomically(path_, text);
  file_ = std::make_unique<CheckedFile>(path_, CheckedFile::Mode::kAppend);
}

void MetricsLog::append(const EpochRecord& r) {
  std::vector<std::string> added;
  for (const auto& entry : r.metrics.entries()) {
    const auto column = metrics_column(entry.key);
    if (std::find(columns_.begin(), columns_.end(), column) == columns_.end() &&
        std::find(added.begin(), added.end(), column) == added.end()) {
      added.push_back(column);
    }
  }
  if (!added.empty()) add_columns(added);
  std::vector<std::string> cells(columns_.size());  // empty: not measured this epoch
  cells[0] = std::to_string(r.epoch);
  for (const auto& entry : r.metrics.entries()) {
    cells[std::find(columns_.begin(), columns_.end(), metrics_column(entry.key)) - columns_.begin()] = cell(entry.value);
  }
  file_->write(join_cells(cells) + "\n");
  file_->sync();
}

}  // namespace safetrain::train
