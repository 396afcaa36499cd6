#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../support/scratch_dir.hpp"
#include "safetrain/common/error.hpp"
#include "safetrain/eval/predictions.hpp"
#include "safetrain/eval/streaming_metrics.hpp"

namespace fs = std::filesystem;
using namespace safetrain::eval;
using safetrain::testing_support::scratch_dir;

namespace {


std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST(PredictionsCsv, HeaderAndRowsRoundTrip) {
  const auto dir = scratch_dir("predictions");
  BufferedOutputs outputs;
  outputs.row_ids = torch::tensor({3, 17}, torch::kLong);
  outputs.targets = torch::tensor({{1.0f, -2.5f}, {0.125f, 1e20f}});
  outputs.predictions = torch::tensor({{1.5f, -2.0f}, {0.0f, 3.0f}});
  write_predictions_csv(outputs, {"x", "roll, deg"}, dir / "sub" / "val.csv");
  const auto lines = lines_of(dir / "sub" / "val.csv");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "row_id,x_true,x_pred,\"roll, deg_true\",\"roll, deg_pred\"");
  EXPECT_EQ(lines[1], "3,1,1.5,-2.5,-2");
  EXPECT_EQ(lines[2], "17,0.125,0,1.00000002e+20,3");

  const PredictionsFile back = read_predictions_csv(dir / "sub" / "val.csv");
  EXPECT_EQ(back.target_names, (std::vector<std::string>{"x", "roll, deg"}));
  EXPECT_TRUE(torch::equal(back.outputs.row_ids, outputs.row_ids));
  EXPECT_TRUE(torch::equal(back.outputs.targets, outputs.targets));
  EXPECT_TRUE(torch::equal(back.outputs.predictions, outputs.predictions));
}

TEST(PredictionsCsv, EmptyOutputsWriteHeaderOnlyAndBadFilesNameTheLine) {
  const auto dir = scratch_dir("predictions_bad");
  BufferedOutputs empty;
  write_predictions_csv(empty, {"a"}, dir / "empty.csv");
  EXPECT_EQ(lines_of(dir / "empty.csv"), (std::vector<std::string>{"row_id,a_true,a_pred"}));
  EXPECT_EQ(read_predictions_csv(dir / "empty.csv").outputs.size(), 0);

  { std::ofstream(dir / "bad.csv") << "row_id,a_true,a_pred\n0,1,2\n1,1\n"; }
  try {
    read_predictions_csv(dir / "bad.csv");
    FAIL();
  } catch (const safetrain::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3"), std::string::npos) << e.what();
  }
  { std::ofstream(dir / "header.csv") << "row_id,a_true,b_pred\n"; }
  EXPECT_THROW(read_predictions_csv(dir / "header.csv"), safetrain::InputError);
  EXPECT_THROW(read_predictions_csv(dir / "absent.csv"), safetrain::InputError);
}

TEST(MetricsJson, WrittenAtomicallyWithNullForNaN) {
  const auto dir = scratch_dir("metrics_json");
  StreamingMetrics metrics({"a"});
  nlohmann::json j{{"val", metrics.to_json()}};
  write_metrics_json(j, dir / "metrics.json");
  std::ifstream in(dir / "metrics.json");
  const auto back = nlohmann::json::parse(in);
  EXPECT_TRUE(back["val"]["loss"].is_null());
  EXPECT_EQ(back["val"]["count"], 0);
}
