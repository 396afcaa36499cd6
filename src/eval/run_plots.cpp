#include "safetrain/eval/run_plots.hpp"

#include <cmath>
#include <exception>
#include <fstream>

#include <nlohmann/json.hpp>

#include "csv_table.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/common/log.hpp"
#include "safetrain/common/run_layout.hpp"
#include "safetrain/eval/plots.hpp"
#include "safetrain/eval/predictions.hpp"

namespace safetrain::eval {
namespace {

namespace fs = std::filesystem;

std::vector<EpochRow> read_epoch_rows(const fs::path& metrics_csv) {
  const CsvTable table = CsvTable::read(metrics_csv);
  const size_t epoch = table.required_column(metric::kEpoch);
  const size_t train = table.required_column(metric::kTrainLoss);
  const auto val = table.column(metric::kValLoss);
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

bool holds_exact_metrics(const nlohmann::json* saved) {
  return saved && saved->is_object() && saved->contains("targets") && (*saved)["targets"].is_object() &&
         saved->contains("count") && (*saved)["count"].is_number_integer();
}

// Exact metrics saved by the trainer, when they match these targets; else recomputed from the kept rows.
MetricSummary summary_for(const PredictionsFile& file, const nlohmann::json* saved) {
  if (holds_exact_metrics(saved)) {
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

// The trainer's run summary in metrics.json names the best epoch and the loss ("loss_units").
LossCurveOptions loss_curve_options(const nlohmann::json& saved) {
  LossCurveOptions options;
  if (!saved.is_object()) return options;
  if (saved.contains("best_epoch") && saved["best_epoch"].is_number_integer()) {
    options.best_epoch = saved["best_epoch"].get<int64_t>();
  }
  if (saved.contains("loss_units") && saved["loss_units"].is_string()) {
    options.loss_name = saved["loss_units"].get<std::string>();
  }
  return options;
}

// A folder with none of a run's files draws nothing: that is a mistaken path, not a success.
void require_run_files(const RunLayout& layout) {
  for (const auto& file : {layout.metrics_csv(), layout.metrics_json(), layout.memory_csv(),
                           layout.predictions_csv("val"), layout.predictions_csv("test")}) {
    if (fs::exists(file)) return;
  }
  throw InputError(layout.root().string() + ": not a run directory (no metrics.csv, metrics.json, memory.csv or "
                   "predictions/*.csv): name a folder the trainer made, e.g. runs/<run>");
}

}  // namespace

SplitTitleSource split_title_source(const fs::path& run_dir, const std::string& split) {
  const RunLayout layout(run_dir);
  if (!fs::exists(layout.metrics_json())) return {};
  const auto saved = read_json_file(layout.metrics_json());
  if (!saved.is_object() || !saved.contains(split) || !holds_exact_metrics(&saved[split])) return {};
  const auto& entry = saved[split];
  return {true, entry.contains("epoch") && entry["epoch"].is_number_integer() ? entry["epoch"].get<int64_t>() : -1};
}

std::vector<fs::path> redraw_run(const fs::path& run_dir, const RedrawOptions& redraw) {
  if (!fs::is_directory(run_dir)) throw InputError(run_dir.string() + ": not a run directory");
  const RunLayout layout(run_dir);
  require_run_files(layout);
  const fs::path plots = layout.plots();
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

  nlohmann::json saved_metrics;
  attempt("metrics.json", [&] {
    if (fs::exists(layout.metrics_json())) saved_metrics = read_json_file(layout.metrics_json());
  });
  attempt("loss curve", [&] {
    if (!fs::exists(layout.metrics_csv())) return;
    const auto rows = read_epoch_rows(layout.metrics_csv());
    if (rows.empty()) return;
    write_loss_curve(rows, layout.plot("loss"), loss_curve_options(saved_metrics));
    written.push_back(layout.plot("loss"));
  });
  attempt("memory curve", [&] {
    if (!redraw.memory || !fs::exists(layout.memory_csv()) || CsvTable::read(layout.memory_csv()).rows() == 0) return;
    write_memory_curve(layout.memory_csv(), layout.plot("memory"));
    written.push_back(layout.plot("memory"));
  });

  for (const char* split : {"val", "test"}) {
    attempt(split, [&] {
      const fs::path csv = layout.predictions_csv(split);
      if (!fs::exists(csv)) return;
      const PredictionsFile file = read_predictions_csv(csv);
      const nlohmann::json* saved =
          saved_metrics.is_object() && saved_metrics.contains(split) ? &saved_metrics[split] : nullptr;
      ScatterOptions options{split, -1};
      if (saved && saved->contains("epoch") && (*saved)["epoch"].is_number_integer()) {
        options.epoch = (*saved)["epoch"].get<int64_t>();
      }
      log::info("plots: ", split, " titles from ",
                holds_exact_metrics(saved) ? "the exact metrics of epoch " + std::to_string(options.epoch) + " in metrics.json"
                      : "metrics recomputed from the " + std::to_string(file.outputs.size()) + " kept rows");
      const auto files = write_scatter_plots(file.outputs, file.target_names, summary_for(file, saved), plots, options);
      written.insert(written.end(), files.begin(), files.end());
    });
  }
  if (redraw.report) log::info("plots: wrote ", written.size(), " files under ", plots.string());
  if (first_error) std::rethrow_exception(first_error);
  return written;
}

}  // namespace safetrain::eval
