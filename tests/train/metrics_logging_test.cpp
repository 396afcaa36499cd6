// The logger seam: the record of named figures, metrics.csv's columns as figures appear, and a user's
// metric reaching every sink (metrics.csv, TensorBoard, the epoch line) from one line in its callback.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "safetrain/tensorboard/event_file_reader.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/train/callbacks.hpp"
#include "safetrain/train/session.hpp"

namespace fs = std::filesystem;
using namespace safetrain;
using namespace safetrain::train;

namespace {

std::vector<std::string> csv_lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

EpochRecord record_with(int64_t epoch, std::vector<std::pair<std::string, double>> figures) {
  EpochRecord r;
  r.epoch = epoch;
  for (const auto& [key, value] : figures) r.metrics.log(key, value);
  return r;
}

fs::path logging_test_dir(const std::string& name) {
  const fs::path dir = fs::path(SAFETRAIN_BINARY_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST(MetricsRecord, ALaterLogReplacesTheValueInPlaceAndNamesAreChecked) {
  MetricsRecord record;
  record.log("a", 1);
  record.log("b", 2, MetricsRecord::Show::on_epoch_line);
  record.log("a", 3);
  ASSERT_EQ(record.entries().size(), 2u);
  EXPECT_EQ(record.entries()[0].key, "a");
  EXPECT_EQ(record.get("a"), 3.0);
  EXPECT_FALSE(record.get("c"));
  record.log_per_target("val_mae", {"x", "y"}, {0.5, 0.25});
  EXPECT_EQ(record.get("val_mae/y"), 0.25);
  EXPECT_THROW(record.log("a,b", 1), std::invalid_argument);  // would split a CSV row
  EXPECT_THROW(record.log("", 1), std::invalid_argument);
  EXPECT_THROW(record.log("epoch", 1), std::invalid_argument);
  EXPECT_THROW(record.log_per_target("val_r2", {"x", "y"}, {1.0}), std::invalid_argument);
}

TEST(MetricsLog, KeepsTheBuiltInColumnsAndAppendsAColumnWhenAFigureAppears) {
  const auto csv = logging_test_dir("metrics-log-columns") / "metrics.csv";
  MetricsLog log(csv, -1, {"x"});
  log.append(record_with(1, {{"train_loss", 0.5}, {"lr", 0.01}, {"val_mae/x", 0.25}}));
  const std::string builtin = "epoch,train_loss,val_loss,val_mae,val_r2,lr,grad_norm,seconds,samples_per_s,rss_mb,"
                              "val_mae_x,val_r2_x";
  EXPECT_EQ(csv_lines_of(csv), (std::vector<std::string>{builtin, "1,0.5,,,,0.01,,,,,0.25,"}));
  // A figure first logged in epoch 2: the file is rewritten with the wider header, epoch 1 gets an empty cell.
  log.append(record_with(2, {{"train_loss", 0.25}, {"custom", 7}}));
  EXPECT_EQ(csv_lines_of(csv),
            (std::vector<std::string>{builtin + ",custom", "1,0.5,,,,0.01,,,,,0.25,,", "2,0.25,,,,,,,,,,,7"}));
  log.append(record_with(3, {{"custom", 8}}));  // the file is appended to again after the rewrite
  EXPECT_EQ(csv_lines_of(csv).back(), "3,,,,,,,,,,,,8");
}

TEST(MetricsLog, AResumeKeepsTheEpochsTheCheckpointHoldsAndTheirColumns) {
  const auto csv = logging_test_dir("metrics-log-resume") / "metrics.csv";
  {
    MetricsLog log(csv, -1, {"x"});
    for (int64_t epoch = 1; epoch <= 3; ++epoch) log.append(record_with(epoch, {{"custom", double(epoch)}}));
  }
  MetricsLog resumed(csv, /*keep_epochs_up_to=*/2, {"x"});
  EXPECT_EQ(resumed.columns().back(), "custom");
  resumed.append(record_with(3, {{"train_loss", 0.125}, {"custom", 30}}));
  const auto lines = csv_lines_of(csv);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1], "1,,,,,,,,,,,,1");
  EXPECT_EQ(lines[2], "2,,,,,,,,,,,,2");
  EXPECT_EQ(lines[3], "3,0.125,,,,,,,,,,,30");
}

namespace {

// A user's metric: the one line in on_train_epoch_end is all it takes.
class CustomScore : public Callback {
 public:
  std::string name() const override { return "custom_score"; }
  void on_train_epoch_end(FitContext&, EpochRecord& r) override {
    r.metrics.log("custom_score", 0.25 * static_cast<double>(r.epoch), MetricsRecord::Show::on_epoch_line);
  }
};

}  // namespace

TEST(Session, AUserMetricReachesMetricsCsvTensorBoardAndTheEpochLine) {
  const fs::path out = logging_test_dir("custom-metric-test");
  const auto resolved = config::load_config(
      fs::path(SAFETRAIN_SOURCE_DIR) / "configs" / "quickstart.yaml",
      {{"output.dir", out.string()}, {"output.run_name", "run"}, {"data.synthetic.rows", "600"},
       {"data.synthetic.descriptor_columns", "4"}, {"model.hidden", "16"}, {"training.max_epochs", "2"},
       {"training.threads", "1"}, {"logging.progress", "off"}, {"logging.tensorboard", "true"},
       {"monitor.enabled", "false"}, {"descriptors.enabled", "false"}});
  TrainingSession session(config::make_config(resolved.tree, "test"), {});
  session.setup();
  session.add_callback(std::make_unique<CustomScore>());
  ::testing::internal::CaptureStderr();
  const auto outcome = session.run();
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(outcome.end, RunEnd::completed);

  const auto lines = csv_lines_of(outcome.run_dir / "metrics.csv");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].substr(lines[0].size() - std::string(",custom_score").size()), ",custom_score") << lines[0];
  EXPECT_EQ(lines[1].substr(lines[1].rfind(',')), ",0.25") << lines[1];
  EXPECT_EQ(lines[2].substr(lines[2].rfind(',')), ",0.5") << lines[2];

  const auto files = safetrain::tensorboard::event_files(outcome.run_dir / "tensorboard");
  ASSERT_EQ(files.size(), 1u);
  std::vector<std::pair<int64_t, float>> points;
  for (const auto& p : safetrain::tensorboard::read_event_file(files[0]).scalars) {
    if (p.tag == "custom_score") points.emplace_back(p.step, p.value);
  }
  EXPECT_EQ(points, (std::vector<std::pair<int64_t, float>>{{1, 0.25f}, {2, 0.5f}}));

  EXPECT_NE(log.find("epoch 1/2"), std::string::npos) << log;
  EXPECT_NE(log.find("custom_score 0.25"), std::string::npos) << log;
  EXPECT_NE(log.find("custom_score 0.5"), std::string::npos) << log;
}
