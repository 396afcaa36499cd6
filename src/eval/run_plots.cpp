#include "safetrain/eval/run_plots.hpp"

#include <cmath>
#include <exception>
#include <fstream>

#include <nlohmann/json.hpp>

#include "csv_table.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/eval/plots.hpp"
#include "safetrain/eval/predictions.hpp"

namespace safetrain::eval {
namespace {

namespace fs = std::filesystem;

std::vector<EpochRow> read_epoch_rows(const fs::path& metrics_csv) {
  const CsvTable table = CsvTable::read(metrics_csv);
  const size_t epoch = table.required_column("epoch");
  const size_t train = table.required_column("train_loss");
  const auto val = table.column("val_loss");
  std::vector<EpochRow> rows;
  for (size_t i = 0; i < table.rows(); ++i) {
    const double e = table.number(i, epoch);
    if (!std::isfinite(e)) continue;
    rows.push_back({static_cast<int64_t>(e), table.number(i, train), val ? table.number(i, *val) : NAN});
  }
  return rows;
}

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path.string() + ": cannot open for reading");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path.string() + ": " + e.what());
  }
}

double json_number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

// Exact metrics saved by the trainer, when they match these targets; else recomputed from the kept rows.
MetricSummary summary_for(const PredictionsFile& file, const nlohmann::json* saved) {
  if (saved && saved->is_object() && saved->contains("targets") && (*saved)["targets"].is_object() &&
      saved->contains("count") && (*saved)["count"].is_number_integer()) {
    MetricSummary summary;
    summary.count = (*saved)["count"].get<int64_t>();
    bool complete = true;
    for (const auto& name : file.target_names) {
      const auto& targets = (*saved)["targets"];
      if (!targets.contains(name) || !targets[name].is_object()) {
        complete = false;
        break;
      }
      summary.mae.push_back(json_number(targets[name], "mae"));
      summary.r2.push_back(json_number(targets[name], "r2"));
    }
    if (complete) return summary;
  }
  StreamingMetrics metrics(file.target_names);
  metrics.update(file.outputs.predictions, file.outputs.targets);
  return MetricSummary::from(metrics);
}

}  // namespace

std::vector<fs::path> redraw_run(const fs::path& run_dir) {
  if (!fs::is_directory(run_dir)) throw InputError(run_dir.string() + ": not a run directory");
  const fs::path plots = run_dir / "plots";
  std::vector<fs::path> written;
  // Each figure is independent: one bad file must not cost the others (this also runs on a
  // clean stop, when a file may be incomplete). The first error is rethrown at the end.
  std::exception_ptr first_error;
  const auto attempt = [&](const char* what, const auto& draw) {
    try {
      draw();
    } catch (const std::exception& e) {
      log::warn("plots: ", what, " skipped: ", e.what());
      if (!first_error) first_error = std::current_exception();
    }
  };

  attempt("loss curve", [&] {
    if (!fs::exists(run_dir / "metrics.csv")) return;
    const auto rows = read_epoch_rows(run_dir / "metrics.csv");
    if (rows.empty()) return;
    write_loss_curve(rows, plots / "loss.png");
    written.push_back(plots / "loss.png");
  });
  attempt("memory curve", [&] {
    if (!fs::exists(run_dir / "memory.csv") || CsvTable::read(run_dir / "memory.csv").rows() == 0) return;
    write_memory_curve(run_dir / "memory.csv", plots / "memory.png");
    written.push_back(plots / "memory.png");
  });

  nlohmann::json saved_metrics;
  attempt("predictions/metrics.json", [&] {
    if (fs::exists(run_dir / "predictions" / "metrics.json")) {
      saved_metrics = read_json_file(run_dir / "predictions" / "metrics.json");
    }
  });
  for (const char* split : {"val", "test"}) {
    attempt(split, [&] {
      const fs::path csv = run_dir / "predictions" / (std::string(split) + ".csv");
      if (!fs::exists(csv)) return;
      const PredictionsFile file = read_predictions_csv(csv);
      const nlohmann::json* saved =
          saved_metrics.is_object() && saved_metrics.contains(split) ? &saved_metrics[split] : nullptr;
      ScatterOptions options{split, -1};
      if (saved && saved->contains("epoch") && (*saved)["epoch"].is_number_integer()) {
        options.epoch = (*saved)["epoch"].get<int64_t>();
      }
      const auto files = write_scatter_plots(file.outputs, file.target_names, summary_for(file, saved), plots, options);
      written.insert(written.end(), files.begin(), files.end());
    });
  }
  log::info("plots: wrote ", written.size(), " files under ", plots.string());
  if (first_error) std::rethrow_exception(first_error);
  return written;
}

}  // namespace safetrain::eval
