#include "safetrain/train/run_files.hpp"

#include <charconv>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

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

MetricsLog::MetricsLog(const fs::path& csv, int64_t keep_epochs_up_to, std::vector<std::string> target_names)
    : targets_(std::move(target_names)) {
  std::vector<std::string> kept;
  if (keep_epochs_up_to >= 0 && fs::exists(csv)) {
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      // The first cell is the epoch; a row that does not start with one is not ours to keep.
      long long epoch = 0;
      const auto comma = line.find(',');
      const auto [end, ec] = std::from_chars(line.data(), line.data() + std::min(comma, line.size()), epoch);
      if (ec == std::errc() && end == line.data() + std::min(comma, line.size()) && epoch <= keep_epochs_up_to) {
        kept.push_back(line);
      }
    }
  }
  file_ = std::make_unique<CheckedFile>(csv, CheckedFile::Mode::kTruncate);
  std::string text;
  for (const char* column : kMetricsColumns) text += (text.empty() ? "" : ",") + std::string(column);
  for (const auto& column : metrics_target_columns(targets_)) text += "," + column;
  text += "\n";
  for (const auto& line : kept) text += line + "\n";
  file_->write(text);
}

MetricsLog::~MetricsLog() = default;

void MetricsLog::append(const EpochRecord& r) {
  auto optional = [](const std::optional<double>& v) {
    if (!v) return std::string();
    std::ostringstream out;
    out.precision(9);
    out << *v;
    return out.str();
  };
  char line[512];
  std::snprintf(line, sizeof line, "%lld,%.9g,%s,%s,%s,%.9g,%s,%.3f,%.1f,%.1f", static_cast<long long>(r.epoch),
                r.train_loss, optional(r.val_loss).c_str(), optional(r.val_mae).c_str(), optional(r.val_r2).c_str(),
                r.lr, optional(r.grad_norm).c_str(), r.seconds, r.samples_per_s, r.rss_mb);
  std::string text = line;
  // Per-target cells only for a validated epoch with one figure per target; else empty cells.
  const auto per_target = [&](const std::vector<double>& values) {
    for (size_t t = 0; t < targets_.size(); ++t) {
      text += ",";
      if (values.size() == targets_.size()) text += optional(values[t]);
    }
  };
  per_target(r.val_mae_targets);
  per_target(r.val_r2_targets);
  file_->write(text + "\n");
  file_->sync();
}

}  // namespace safetrain::train
