// The final artefacts describe the model the run keeps, and every file and line states the same figures.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) out.push_back(cell);
  return out;
}

// Rows with two targets in very different units: t1 ~ 1, t2 ~ 1000.
fs::path write_rows(const fs::path& dir) {
  const fs::path csv = dir / "rows.csv";
  std::ofstream out(csv);
  out << "f1,f2,f3,t1,t2\n";
  for (int i = 0; i < 600; ++i) {
    const double a = std::sin(i * 0.37), b = std::cos(i * 0.11), c = (i % 13) / 13.0;
    out << a << ',' << b << ',' << c << ',' << 2 * a - b << ',' << 1000 * (a * c + 0.5) << '\n';
  }
  return csv;
}

struct Trained {
  fs::path run;
  Result result;
};

// min_delta so large that only the first epoch ever counts as an improvement: best (epoch 1) != last (epoch 3).
Trained train_best_first(const fs::path& dir, const fs::path& csv) {
  const std::string yaml = "data:\n  source: csv\n  path: " + csv.string() +
                           "\n  targets: [t1, t2]\n  standardize_targets: true\ndescriptors:\n  enabled: false\n"
                           "training:\n  max_epochs: 3\n  min_delta: 1.0e9\n";
  auto r = run({"trainer", "--config", tiny_config(dir, yaml).string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return {dir / "runs" / "tiny", std::move(r)};
}

// predictions CSV as row_id -> the cells of its row, with the header's column index by name.
struct PredictionRows {
  std::map<std::string, size_t> column;
  std::map<std::string, std::vector<std::string>> rows;
};
PredictionRows read_predictions(const fs::path& csv) {
  PredictionRows out;
  const auto lines = read_lines(csv);
  if (lines.empty()) return out;
  const auto header = cells(lines[0]);
  for (size_t i = 0; i < header.size(); ++i) out.column[header[i]] = i;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto row = cells(lines[i]);
    out.rows[row[0]] = row;
  }
  return out;
}

}  // namespace

TEST(FinalResults, ValidationArtefactsComeFromTheKeptBestModel) {
  const auto dir = scratch("final_results_kept");
  const auto csv = write_rows(dir);
  const auto trained = train_best_first(dir, csv);
  const auto metrics = nlohmann::json::parse(read_text(trained.run / "metrics.json"));
  ASSERT_EQ(metrics["best_epoch"], 1);
  ASSERT_EQ(metrics["epochs_completed"], 3);
  EXPECT_EQ(metrics["val"]["epoch"], 1) << "the validation figures must be the kept model's";
  EXPECT_EQ(metrics["test"]["epoch"], 1);
  const auto& log = trained.result.out + trained.result.err;
  EXPECT_NE(log.find("plots: val titles from the exact metrics of epoch 1 "), std::string::npos) << log;

  // predictions/val.csv equals what the shipped best checkpoint predicts for the same rows.
  const auto predicted = dir / "best.csv";
  const auto p = run({"predict", "--checkpoint", (trained.run / "checkpoints/best").string(), "--input", csv.string(),
                      "--output", predicted.string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto val = read_predictions(trained.run / "predictions/val.csv");
  const auto best = read_predictions(predicted);
  ASSERT_GT(val.rows.size(), 10u);
  for (const auto& [row_id, row] : val.rows) {
    ASSERT_TRUE(best.rows.count(row_id)) << row_id;
    for (const char* t : {"t1_pred", "t2_pred"}) {
      const double mine = std::stod(row[val.column.at(t)]), theirs = std::stod(best.rows.at(row_id)[best.column.at(t)]);
      EXPECT_NEAR(mine, theirs, 1e-4 * std::max(1.0, std::abs(theirs))) << "row " << row_id << " " << t;
    }
  }
}

TEST(FinalResults, OneDefinitionOfEachFigureInCsvJsonAndLogWithPerTargetFigures) {
  const auto dir = scratch("final_results_figures");
  const auto csv = write_rows(dir);
  const auto trained = train_best_first(dir, csv);
  const auto metrics = nlohmann::json::parse(read_text(trained.run / "metrics.json"));
  EXPECT_EQ(metrics["loss_units"], "MSE, standardised targets");
  EXPECT_TRUE(metrics["averages"].is_string());
  const auto& val = metrics["val"];
  // The loss is the standardised one (t2 is in the thousands: its own-unit MSE is far larger).
  EXPECT_LT(val["loss"].get<double>(), val["targets"]["t2"]["mse"].get<double>() / 100) << val.dump();

  // metrics.csv's row of the kept epoch holds the same figures, and each target's own.
  const auto lines = read_lines(trained.run / "metrics.csv");
  ASSERT_GE(lines.size(), 2u);
  const auto header = cells(lines[0]);
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < header.size(); ++i) column[header[i]] = i;
  for (const char* name : {"val_mae_t1", "val_mae_t2", "val_r2_t1", "val_r2_t2"}) ASSERT_TRUE(column.count(name)) << lines[0];
  const auto row = cells(lines[1]);  // epoch 1, the kept one
  const auto number = [&](const char* name) { return std::stod(row.at(column.at(name))); };
  const auto near = [](double a, double b) { return std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(b)); };
  EXPECT_TRUE(near(number("val_loss"), val["loss"].get<double>())) << lines[1] << " vs " << val.dump();
  EXPECT_TRUE(near(number("val_mae"), val["mean_mae"].get<double>())) << lines[1];
  EXPECT_TRUE(near(number("val_r2"), val["mean_r2"].get<double>())) << lines[1];
  EXPECT_TRUE(near(number("val_mae_t2"), val["targets"]["t2"]["mae"].get<double>())) << lines[1];
  EXPECT_TRUE(near(number("val_r2_t1"), val["targets"]["t1"]["r2"].get<double>())) << lines[1];

  // The log's test line and last line name the same loss, and every target apart.
  const auto& log = trained.result.out + trained.result.err;
  const auto at = log.find("test: ");
  ASSERT_NE(at, std::string::npos) << log;
  const auto loss_at = log.find("loss ", at);
  ASSERT_NE(loss_at, std::string::npos);
  const double logged = std::stod(log.substr(loss_at + 5, 20));
  EXPECT_NEAR(logged, metrics["test"]["loss"].get<double>(), 1e-4 * std::abs(logged)) << log.substr(at, 300);
  EXPECT_NE(log.find("(MSE, standardised targets)", at), std::string::npos) << log.substr(at, 300);
  const auto last = log.find("safetrain: completed");
  ASSERT_NE(last, std::string::npos) << log;
  const auto summary = log.substr(last, log.find('\n', last) - last);
  EXPECT_NE(summary.find("t1 mae "), std::string::npos) << summary;
  EXPECT_NE(summary.find("t2 mae "), std::string::npos) << summary;
  EXPECT_EQ(summary.find("(target units) r2"), std::string::npos) << summary;
}

TEST(FinalResults, FeaturesOnceTrimsAndPlotCountsAgreeWithTheLog) {
  const auto dir = scratch("final_results_counts");
  // The tiny synthetic run prunes its descriptor columns (descriptors.enabled from the base config).
  const auto r = run({"trainer", "--config", tiny_config(dir, "descriptors:\n  enabled: true\n").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path run_dir = dir / "runs" / "tiny";
  const auto log = r.out + r.err;

  const auto features = nlohmann::json::parse(read_text(run_dir / "features.json"));
  ASSERT_EQ(features["selected_by"], "descriptor pipeline");
  std::map<std::string, int> seen;
  for (const auto& d : features["pruner_decisions"]) ++seen[d["column"].get<std::string>()];
  for (const auto& [column, times] : seen) EXPECT_EQ(times, 1) << column << " listed " << times << " times";
  for (const auto& f : features["features"]) EXPECT_EQ(seen[f.get<std::string>()], 1) << f;

  const auto report = nlohmann::json::parse(read_text(run_dir / "memory_report.json"));
  const auto trims_at = log.find("cache trims: ");
  ASSERT_NE(trims_at, std::string::npos) << log;
  EXPECT_EQ(report["trims"].get<int64_t>(), std::stoll(log.substr(trims_at + 13, 12))) << log.substr(trims_at, 120);
  EXPECT_TRUE(report.contains("alarm_trims"));
  EXPECT_TRUE(report["rss_kinds"].contains("epoch_end_rss_mb"));

  int pngs = 0;
  for (const auto& entry : fs::directory_iterator(run_dir / "plots")) pngs += entry.path().extension() == ".png";
  const auto wrote_at = log.find("plots: wrote ");
  ASSERT_NE(wrote_at, std::string::npos) << log;
  EXPECT_EQ(log.find("plots: wrote ", wrote_at + 1), std::string::npos) << "one count for the whole stage";
  EXPECT_EQ(std::stoi(log.substr(wrote_at + 13, 6)), pngs) << log.substr(wrote_at, 120);
  EXPECT_TRUE(fs::exists(run_dir / "plots/memory.png"));
  EXPECT_TRUE(fs::exists(run_dir / "plots/importance.png"));
}
