// Column roles on a table as a chemist has it: an ID, a SMILES string, two targets of different scale.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

fs::path molecules_csv(const fs::path& dir) {
  const fs::path csv = dir / "molecules.csv";
  std::ofstream out(csv);
  out << "mol_id,smiles,d1,d2,d3,target_logp,target_weight\n";
  for (int i = 0; i < 400; ++i) {
    const double a = std::sin(i * 0.7), b = std::cos(i * 0.3), c = (i % 11) * 0.1;
    out << "MOL" << 1000 + i << ",C" << std::string(1 + i % 5, 'C') << "O," << a << ',' << b << ',' << c << ','
        << 2 * a - b + 0.1 * c << ',' << 150 + 80 * b + 20 * c << '\n';
  }
  return csv;
}

std::string table_settings(const fs::path& csv, const std::string& more = "") {
  return "data:\n  source: csv\n  path: " + csv.string() +
         "\n  targets: target_\n  id_columns: [mol_id]\n" + more + "descriptors:\n  enabled: false\n";
}

}  // namespace

TEST(ColumnRoles, IdsAreCarriedIntoPredictionsAndTextColumnsSkipped) {
  // Regression: any non-numeric column (an ID, a SMILES string) was fatal in the trainer and in predict.
  const auto dir = scratch("column_roles");
  const auto csv = molecules_csv(dir);
  const auto r = run({"trainer", "--config", tiny_config(dir, table_settings(csv)).string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Skipped with one log line, though the forecast and the load each open the table (it was said twice).
  const auto said = r.err.find("column 'smiles'");
  EXPECT_NE(said, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("column 'smiles'", said + 1), std::string::npos) << r.err;
  const fs::path run_dir = dir / "runs" / "tiny";
  const auto val = read_lines(run_dir / "predictions" / "val.csv");
  ASSERT_GT(val.size(), 1u);
  EXPECT_EQ(val[0].rfind("row_id,mol_id,target_logp_true,target_logp_pred", 0), 0u) << val[0];
  EXPECT_NE(val[1].find(",MOL"), std::string::npos) << val[1];

  const auto predicted = run({"predict", "--checkpoint", (run_dir / "checkpoints" / "best").string(), "--input",
                              csv.string(), "--output", (dir / "out.csv").string()});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto rows = read_lines(dir / "out.csv");
  ASSERT_EQ(rows.size(), 401u);
  // The training table itself: each row's split, and the true values beside the predictions.
  EXPECT_EQ(rows[0], "row_id,split,mol_id,target_logp_true,target_logp_pred,target_weight_true,target_weight_pred");
  EXPECT_EQ(rows[1].rfind("0,", 0), 0u) << rows[1];
  EXPECT_NE(rows[1].find(",MOL1000,"), std::string::npos) << rows[1];
}

TEST(ColumnRoles, TextInATargetIsAnErrorNamingTheCell) {
  const auto dir = scratch("column_roles_text_target");
  const fs::path csv = dir / "bad.csv";
  std::ofstream(csv) << "a,target_y\n1,high\n2,3\n";
  const auto r = run({"trainer", "--config", tiny_config(dir, "data:\n  source: csv\n  path: " + csv.string() +
                                                             "\n  targets: target_\ndescriptors:\n  enabled: false\n")
                                                 .string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("bad.csv:2:2: column 'target_y': 'high' is not a number"), std::string::npos) << r.err;
}

// Issue 26 items 7 and 10 through the trainer, as the README's own-data section shows them: a split column places
// the rows and reaches the predictions; a numeric id column and a near copy of the target are warned about;
// predict on a new table without the split column still works.
TEST(ColumnRoles, OwnSplitColumnIdWarningAndLeakWarning) {
  const auto dir = scratch("column_roles_own_split");
  const fs::path csv = dir / "own.csv";
  {
    std::ofstream out(csv);
    out << "serial,fold,d1,d2,copy,target_y\n";
    for (int i = 0; i < 300; ++i) {
      const double a = std::sin(i * 0.7), b = std::cos(i * 0.3), y = 2 * a - b;
      out << 5000 + i << ',' << (i % 10 == 9 ? "test" : i % 10 == 8 ? "val" : "train") << ',' << a << ',' << b << ','
          << y + 0.001 * std::sin(i * 1.3) << ',' << y << '\n';
    }
  }
  const auto r = run({"trainer", "--config", tiny_config(dir, "data:\n  source: csv\n  path: " + csv.string() +
                                                             "\n  targets: [target_y]\n  split_column: fold\n"
                                                             "descriptors:\n  enabled: false\n").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("own split by data.split_column 'fold': train 240, val 30, test 30 rows"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("possible leak: feature 'copy' predicts target 'target_y'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("feature 'serial' looks like a row id (integers 5000 to 5299"), std::string::npos) << r.err;
  const auto test_rows = read_lines(dir / "runs" / "tiny" / "predictions" / "test.csv");
  ASSERT_EQ(test_rows.size(), 31u);
  EXPECT_EQ(test_rows[0].rfind("row_id,fold,", 0), 0u) << test_rows[0];
  EXPECT_EQ(test_rows[1].rfind("9,test,", 0), 0u) << test_rows[1];

  // predict on the training table re-reads the split column: each row in the split the trainer gave it.
  const auto again = run({"predict", "--checkpoint", (dir / "runs/tiny").string(), "--input", csv.string(), "--output",
                          (dir / "again.csv").string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto scored = read_lines(dir / "again.csv");
  ASSERT_EQ(scored.size(), 301u);
  EXPECT_EQ(scored[0].rfind("row_id,split,", 0), 0u) << scored[0];
  EXPECT_EQ(scored[10].rfind("9,test,", 0), 0u) << scored[10];
  EXPECT_EQ(scored[9].rfind("8,val,", 0), 0u) << scored[9];
  EXPECT_EQ(scored[1].rfind("0,train,", 0), 0u) << scored[1];

  const fs::path fresh = dir / "fresh.csv";
  std::ofstream(fresh) << "serial,d1,d2,copy\n1,0.1,0.2,0.3\n2,0.2,0.1,0.0\n";
  const auto predicted = run({"predict", "--checkpoint", (dir / "runs/tiny/checkpoints/best").string(), "--input",
                              fresh.string(), "--output", (dir / "fresh_out.csv").string()});
  EXPECT_EQ(predicted.exit_code, 0) << predicted.err;
}

// Regression (issue 29): predict wrote id cells raw, so an id such as "1,2-dichloroethane" became two cells
// and shifted every prediction after it; the trainer's own predictions files quoted it.
TEST(ColumnRoles, IdsWithCommasAndQuotesStayOneCellInEveryPredictionsFile) {
  const auto dir = scratch("column_roles_quoted_ids");
  const fs::path csv = dir / "quoted.csv";
  {
    std::ofstream out(csv);
    out << "name,d1,d2,target_y\n";
    for (int i = 0; i < 200; ++i) {
      const double a = std::sin(i * 0.7), b = std::cos(i * 0.3);
      out << "\"" << i << ",2-dichloro \"\"ethane\"\"\"," << a << ',' << b << ',' << 2 * a - b << '\n';
    }
  }
  const auto settings = "data:\n  source: csv\n  path: " + csv.string() +
                        "\n  targets: [target_y]\n  id_columns: [name]\ndescriptors:\n  enabled: false\n";
  ASSERT_EQ(run({"trainer", "--config", tiny_config(dir, settings).string()}).exit_code, 0);
  const auto predicted = run({"predict", "--checkpoint", (dir / "runs/tiny").string(), "--input", csv.string(),
                              "--output", (dir / "out.csv").string()});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const auto rows = read_lines(dir / "out.csv");
  ASSERT_EQ(rows.size(), 201u);
  EXPECT_EQ(rows[0], "row_id,split,name,target_y_true,target_y_pred");
  EXPECT_NE(rows[1].find(",\"0,2-dichloro \"\"ethane\"\"\","), std::string::npos) << rows[1];
  const auto val = read_lines(dir / "runs/tiny/predictions/val.csv");
  ASSERT_GT(val.size(), 1u);
  EXPECT_NE(val[1].find(",2-dichloro \"\"ethane\"\"\","), std::string::npos) << val[1];
}
