// One table in six files: plain CSV, CSV with quoted names (commas, doubled quotes, line breaks), a
// ';'-separated file, a .csv.gz, a Parquet glob of float32 columns (written here through pyarrow) and a
// decimal-comma export (data.csv.decimal: ',').
// Each trains the same model bit for bit, predicts the same rows and prunes to the same columns.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "../support/parquet_fixture.hpp"
#include "e2e_support.hpp"

namespace fs = std::filesystem;
using namespace safetrain::e2e;

namespace {

// Rows of the table: a name (how it is written depends on the format) and numbers.
std::string table_text(char delimiter, bool quoted_names, int from, int to, bool header = true) {
  std::ostringstream out;
  const std::string d(1, delimiter);
  if (header) out << "name" << d << "d1" << d << "d2" << d << "d3" << d << "d4" << d << "target_y\n";
  for (int i = from; i < to; ++i) {
    const double a = std::sin(i * 0.7), b = std::cos(i * 0.3), c = (i % 11) * 0.1;
    if (quoted_names) {
      out << (i % 3 == 0 ? "\"1,2-dichloro" + std::to_string(i) + "\"" : i % 3 == 1 ? "\"say \"\"x\"\"\"" : "\"two\nlines\"");
    } else {
      out << "mol" << i;
    }
    out << d << a << d << b << d << c << d << a * b << d << 2 * a - b + 0.1 * c << "\n";
  }
  return out.str();
}

void put(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary) << text; }

bool to_parquet(const fs::path& csv, const fs::path& parquet) {
  return safetrain::testing_support::write_parquet_fixture("float32", csv, parquet, 50);
}

std::string settings(const std::string& path, const std::string& decimal = ".") {
  return "data:\n  source: csv\n  path: " + path + "\n  targets: target_\n  csv:\n    decimal: '" + decimal +
         "'\ndescriptors:\n  enabled: false\n";
}

// The table as a spreadsheet in a decimal-comma locale exports it: ';' between fields, ',' in the numbers.
std::string decimal_comma_text(int rows) {
  auto text = table_text(';', false, 0, rows);
  std::replace(text.begin(), text.end(), '.', ',');
  return text;
}

}  // namespace

TEST(TableFormatsE2e, EveryFormatOfOneTableTrainsPredictsAndPrunesTheSame) {
  const auto dir = scratch("table_formats");
  constexpr int kRows = 300;
  put(dir / "plain.csv", table_text(',', false, 0, kRows));
  put(dir / "quoted.csv", table_text(',', true, 0, kRows));
  put(dir / "semi.csv", table_text(';', false, 0, kRows));
  put(dir / "eu.csv", decimal_comma_text(kRows));
  put(dir / "zipped.csv", table_text(',', false, 0, kRows));
  ASSERT_EQ(std::system(("gzip -f '" + (dir / "zipped.csv").string() + "'").c_str()), 0);
  fs::create_directories(dir / "pq");
  put(dir / "part1.csv", table_text(',', false, 0, 120));
  put(dir / "part2.csv", table_text(',', false, 120, kRows));
  if (!to_parquet(dir / "part1.csv", dir / "pq" / "part1.parquet") ||
      !to_parquet(dir / "part2.csv", dir / "pq" / "part2.parquet")) {
    GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  }
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"plain", (dir / "plain.csv").string()},     {"quoted", (dir / "quoted.csv").string()},
      {"semi", (dir / "semi.csv").string()},       {"gzip", (dir / "zipped.csv.gz").string()},
      {"parquet", (dir / "pq" / "*.parquet").string()}, {"decimal_comma", (dir / "eu.csv").string()}};
  std::string model, predictions, selected;
  for (const auto& [name, path] : inputs) {
    const auto run_dir_parent = dir / name;
    fs::create_directories(run_dir_parent);
    // The decimal comma is said once, to the trainer; predict reads its input as the training table was read.
    const std::string decimal = name == "decimal_comma" ? "," : ".";
    const auto trained = run({"trainer", "--config", tiny_config(run_dir_parent, settings(path, decimal)).string()});
    ASSERT_EQ(trained.exit_code, 0) << name << ": " << trained.err;
    const auto best = run_dir_parent / "runs" / "tiny" / "checkpoints" / "best";
    const auto out = run_dir_parent / "preds.csv";
    const auto predicted = run({"predict", "--checkpoint", best.string(), "--input", path, "--output", out.string()});
    ASSERT_EQ(predicted.exit_code, 0) << name << ": " << predicted.err;
    const auto pruned = run({"descriptor_pipeline", "--input", path, "--output-dir", (run_dir_parent / "pruned").string(),
                             "--targets", "target_", "--set", "data.csv.decimal=" + decimal});
    ASSERT_EQ(pruned.exit_code, 0) << name << ": " << pruned.err;
    const auto this_model = read_text(best / "model.pt");
    const auto this_predictions = read_text(out);
    const auto this_selected = read_text(run_dir_parent / "pruned" / "selected_columns.txt");
    if (name == "plain") {
      model = this_model;
      predictions = this_predictions;
      selected = this_selected;
      ASSERT_FALSE(model.empty());
      continue;
    }
    EXPECT_TRUE(this_model == model) << name << ": the trained weights differ from the plain CSV's";
    EXPECT_EQ(this_predictions, predictions) << name;
    EXPECT_EQ(this_selected, selected) << name;
  }
  // predict --set names how its input is read, and nothing else.
  const auto refused = run({"predict", "--checkpoint", (dir / "plain" / "runs" / "tiny").string(), "--input",
                            (dir / "plain.csv").string(), "--output", (dir / "p.csv").string(), "--set", "training.lr=1"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("--set training.lr: predict sets only how its input is read"), std::string::npos) << refused.err;
}

// data.storage: mmap converts a table 1,024 rows at a time, so a Parquet source holds a whole row group
// meanwhile: the forecast's load phase counts it (and only then), so a file of huge row groups is refused
// before the conversion, not killed in it.
TEST(TableFormatsE2e, TheLoadForecastCountsTheParquetRowGroupTheMmapConversionHolds) {
  const auto dir = scratch("row_group_forecast");
  put(dir / "t.csv", table_text(',', false, 0, 20000));
  if (!safetrain::testing_support::write_parquet_fixture("float32", dir / "t.csv", dir / "t.parquet", 20000)) {
    GTEST_SKIP() << "no SAFETRAIN_PYTHON with pyarrow";
  }
  const auto forecast = [&](const std::string& storage) {
    const std::string data_header = "data:\n";  // settings() opens the data section: storage goes into it
    const auto yaml = data_header + "  storage: " + storage + "\n" + settings((dir / "t.parquet").string()).substr(data_header.size());
    const auto config = tiny_config(dir, yaml);
    const auto r = run({"check_system", "--config", config.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto load = r.out.find("    load ~");
    return load == std::string::npos ? std::string() : r.out.substr(load, r.out.find('\n', load) - load);
  };
  // 20,000 rows x 5 numeric columns (the name column is text) as float32: 0.4 MB.
  EXPECT_NE(forecast("mmap").find("+ a Parquet row group 0.4 MB"), std::string::npos) << forecast("mmap");
  EXPECT_EQ(forecast("memory").find("Parquet row group"), std::string::npos) << forecast("memory");
}
