// predict reproduces the trainer's final test predictions from the best checkpoint.
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

std::vector<double> fields(const std::string& line) {
  std::vector<double> out;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) out.push_back(std::stod(cell));
  return out;
}

fs::path write_rows(const fs::path& dir) {
  const fs::path csv = dir / "rows.csv";
  std::ofstream out(csv);
  out << "f1,f2,f3,t1,t2\n";
  for (int i = 0; i < 600; ++i) {
    const double a = std::sin(i * 0.37), b = std::cos(i * 0.11), c = (i % 13) / 13.0;
    out << a << ',' << b << ',' << c << ',' << 2 * a - b << ',' << a * c + 0.5 << '\n';
  }
  return csv;
}

// Trains the tiny model on `csv` (targets t1, t2, no pruning) with `data_extra` lines under `data:`
// and `extra` sections after; returns the run directory.
fs::path train_on(const fs::path& dir, const fs::path& csv, const std::string& data_extra = "",
                  const std::string& extra = "") {
  const std::string yaml = "data:\n  source: csv\n  path: " + csv.string() + "\n  targets: [t1, t2]\n" + data_extra +
                           "descriptors:\n  enabled: false\n" + extra;
  const auto r = run({"trainer", "--config", tiny_config(dir, yaml).string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir / "runs" / "tiny";
}

}  // namespace

TEST(Predict, ReproducesTheTrainersTestPredictions) {
  const auto dir = scratch("predict");
  const auto csv = write_rows(dir);
  const fs::path run_dir = train_on(dir, csv, "  standardize_targets: true\n");
  const auto r = run({"predict", "--checkpoint", (run_dir / "checkpoints/best").string(), "--input", csv.string(),
                      "--output", (dir / "preds.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const auto predicted = read_lines(dir / "preds.csv");
  ASSERT_EQ(predicted.size(), 601u);
  EXPECT_EQ(predicted[0], "row_id,t1_pred,t2_pred");
  const auto tested = read_lines(run_dir / "predictions/test.csv");
  EXPECT_EQ(tested[0], "row_id,t1_true,t1_pred,t2_true,t2_pred");
  ASSERT_GT(tested.size(), 10u);
  for (size_t i = 1; i < tested.size(); ++i) {
    const auto t = fields(tested[i]);
    const auto p = fields(predicted[static_cast<size_t>(t[0]) + 1]);
    EXPECT_NEAR(p[1], t[2], 1e-4) << "row " << t[0];
    EXPECT_NEAR(p[2], t[4], 1e-4) << "row " << t[0];
  }
}

TEST(Predict, WrongColumnsAndCorruptWeightsAreClearErrors) {
  const auto dir = scratch("predict_errors");
  const auto csv = write_rows(dir);
  const fs::path best = train_on(dir, csv, "", "training:\n  max_epochs: 1\n") / "checkpoints/best";
  const fs::path other = dir / "other.csv";
  std::ofstream(other) << "f1,f9\n1,2\n";
  const auto wrong = run({"predict", "--checkpoint", best.string(), "--input", other.string(), "--output",
                          (dir / "p.csv").string()});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("missing"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("other.csv"), std::string::npos) << wrong.err;
}

TEST(Predict, ScoresAnInputThatHoldsTheTargetsAndSaysSo) {
  const auto dir = scratch("predict_scores");
  const auto csv = write_rows(dir);
  const fs::path best = train_on(dir, csv) / "checkpoints/best";
  const auto scored = run({"predict", "--checkpoint", best.string(), "--input", csv.string(), "--output",
                           (dir / "scored.csv").string()});
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  EXPECT_NE(scored.out.find("against the input's targets (600 rows): t1 R2 "), std::string::npos) << scored.out;
  const auto metrics = nlohmann::json::parse(read_text(dir / "scored.metrics.json"));
  EXPECT_EQ(metrics["count"], 600);
  // The same numbers recomputed here from the written predictions.
  const auto predicted = read_lines(dir / "scored.csv");
  const auto truth = read_lines(csv);
  double sse = 0, sst = 0, mean = 0;
  for (size_t i = 1; i < truth.size(); ++i) mean += fields(truth[i])[3] / 600.0;
  for (size_t i = 1; i < truth.size(); ++i) {
    const double y = fields(truth[i])[3], p = fields(predicted[i])[1];
    sse += (y - p) * (y - p);
    sst += (y - mean) * (y - mean);
  }
  EXPECT_NEAR(metrics["targets"]["t1"]["r2"].get<double>(), 1.0 - sse / sst, 1e-4);
  // Features only: predictions, and no metrics file.
  const fs::path features = dir / "features.csv";
  {
    std::ofstream out(features);
    out << "f3,f1,f2\n0.5,0.1,0.2\n";
  }
  const auto plain = run({"predict", "--checkpoint", best.string(), "--input", features.string(), "--output",
                          (dir / "plain.csv").string()});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("against"), std::string::npos) << plain.out;
  EXPECT_FALSE(fs::exists(dir / "plain.metrics.json"));
}

TEST(Predict, AModelTrainedWithDropRowsSkipsIncompleteRowsAndListsThem) {
  const auto dir = scratch("predict_drop_rows");
  const auto csv = write_rows(dir);
  const fs::path best = train_on(dir, csv, "  nan_policy: drop_rows\n") / "checkpoints/best";
  const fs::path holes = dir / "holes.csv";
  {
    std::ofstream out(holes);
    out << "f1,f2,f3\n";
    for (int i = 0; i < 12; ++i) out << (i == 3 ? "" : "0.5") << ',' << (i == 10 ? "NA" : "0.25") << ",0.1\n";
  }
  const auto r = run({"predict", "--checkpoint", best.string(), "--input", holes.string(), "--output",
                      (dir / "p.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("skipped 2 row(s) with a missing feature (data.nan_policy: drop_rows), row_id 3, 10"),
            std::string::npos)
      << r.out;
  const auto lines = read_lines(dir / "p.csv");
  ASSERT_EQ(lines.size(), 11u);  // header + the 10 complete rows
  std::vector<std::string> ids;
  for (size_t i = 1; i < lines.size(); ++i) ids.push_back(lines[i].substr(0, lines[i].find(',')));
  EXPECT_EQ(ids, (std::vector<std::string>{"0", "1", "2", "4", "5", "6", "7", "8", "9", "11"}));
}
