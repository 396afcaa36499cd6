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

// The cells of a CSV line as numbers (NaN for text such as the split column).
std::vector<double> fields(const std::string& line) {
  std::vector<double> out;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) {
    char* end = nullptr;
    const double value = std::strtod(cell.c_str(), &end);
    out.push_back(end != cell.c_str() && *end == '\0' ? value : NAN);
  }
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
  // The training table itself: each row's split and its true values beside the predictions.
  EXPECT_EQ(predicted[0], "row_id,split,t1_true,t1_pred,t2_true,t2_pred");
  const auto tested = read_lines(run_dir / "predictions/test.csv");
  EXPECT_EQ(tested[0], "row_id,t1_true,t1_pred,t2_true,t2_pred");
  ASSERT_GT(tested.size(), 10u);
  for (size_t i = 1; i < tested.size(); ++i) {
    const auto t = fields(tested[i]);
    const auto p = fields(predicted[static_cast<size_t>(t[0]) + 1]);
    EXPECT_NEAR(p[3], t[2], 1e-4) << "row " << t[0];
    EXPECT_NEAR(p[5], t[4], 1e-4) << "row " << t[0];
    EXPECT_NEAR(p[2], t[1], 1e-5) << "row " << t[0];
    EXPECT_NE(predicted[static_cast<size_t>(t[0]) + 1].find(",test,"), std::string::npos) << "row " << t[0];
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
  EXPECT_NE(scored.out.find("against the input's targets, all rows together (training rows included: optimistic) "
                            "(600 rows): t1 R2 "),
            std::string::npos)
      << scored.out;
  const auto metrics = nlohmann::json::parse(read_text(dir / "scored.metrics.json"));
  EXPECT_EQ(metrics["count"], 600);
  // The same numbers recomputed here from the written predictions.
  const auto predicted = read_lines(dir / "scored.csv");
  const auto truth = read_lines(csv);
  double sse = 0, sst = 0, mean = 0;
  for (size_t i = 1; i < truth.size(); ++i) mean += fields(truth[i])[3] / 600.0;
  for (size_t i = 1; i < truth.size(); ++i) {
    const double y = fields(truth[i])[3], p = fields(predicted[i])[3];
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
  EXPECT_EQ(plain.out.find("trained on"), std::string::npos) << plain.out;
  EXPECT_EQ(read_lines(dir / "plain.csv").at(0), "row_id,t1_pred,t2_pred") << "no truth, no split: not the table";
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

TEST(Predict, OnTheTrainingTableSaysSoAndScoresEachSplitAsTheTrainerSplitIt) {
  const auto dir = scratch("predict_training_table");
  const auto csv = write_rows(dir);
  const fs::path run_dir = train_on(dir, csv);
  const auto r = run({"predict", "--checkpoint", (run_dir / "checkpoints/best").string(), "--input", csv.string(),
                      "--output", (dir / "p.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("the input is the table this model was trained on (the same file(s), size and time"),
            std::string::npos)
      << r.out;
  for (const char* split : {"split train (", "split val (", "split test ("}) {
    EXPECT_NE(r.out.find(split), std::string::npos) << split << "\n" << r.out;
  }
  // The test split scored here is the trainer's own test split: same rows, same figures.
  const auto scored = nlohmann::json::parse(read_text(dir / "p.metrics.json"));
  const auto trained = nlohmann::json::parse(read_text(run_dir / "metrics.json"));
  for (const char* split : {"val", "test"}) {
    EXPECT_EQ(scored["splits"][split]["count"], trained[split]["count"]) << split;
    EXPECT_NEAR(scored["splits"][split]["targets"]["t1"]["r2"].get<double>(),
                trained[split]["targets"]["t1"]["r2"].get<double>(), 1e-4)
        << split;
    EXPECT_NEAR(scored["splits"][split]["loss"].get<double>(), trained[split]["loss"].get<double>(),
                1e-4 * trained[split]["loss"].get<double>())
        << split;
  }
  EXPECT_EQ(scored["splits"]["train"]["count"].get<int64_t>() + scored["splits"]["val"]["count"].get<int64_t>() +
                scored["splits"]["test"]["count"].get<int64_t>(),
            600);
  // A copy of the table elsewhere is recognised too, and said to be one.
  fs::create_directories(dir / "copy");
  fs::copy_file(csv, dir / "copy" / "rows.csv");
  const auto copied = run({"predict", "--checkpoint", (run_dir / "checkpoints/best").string(), "--input",
                           (dir / "copy" / "rows.csv").string(), "--output", (dir / "q.csv").string()});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_NE(copied.out.find("same name and size as recorded in the checkpoint (a copy?)"), std::string::npos)
      << copied.out;
}
