// What the pipeline reads of the table: pass 0 every column once; pass 1 only the columns of hash-equal pairs;
// the survivor load only the kept columns and the targets (through TableSource::with_columns). A wrapper
// source counts the cells each read converts.
#include <gtest/gtest.h>

#include <memory>

#include "known_tables.hpp"
#include "safetrain/data/descriptors/pipeline.hpp"

using namespace safetrain::data::descriptors;

namespace {

struct ReadLog {
  std::vector<std::vector<std::string>> projections;  // each with_columns call's columns, in call order
  int64_t cells = 0;                                   // numeric cells handed out, by every source
};

// Delegates to a tensor source and counts what it hands out; its projections count into the same log.
class CountingSource final : public safetrain::data::TableSource {
 public:
  CountingSource(std::unique_ptr<safetrain::data::TableSource> inner, std::shared_ptr<ReadLog> log)
      : inner_(std::move(inner)), log_(std::move(log)) {
    columns_ = inner_->columns();
    name_ = inner_->name();
    batch_rows_ = inner_->batch_rows();
  }
  std::optional<int64_t> row_count() const override { return inner_->row_count(); }
  int64_t row_upper_bound() const override { return inner_->row_upper_bound(); }
  int64_t read_rows(float* out, int64_t max_rows, safetrain::TextColumns* ids) override {
    const int64_t rows = inner_->read_rows(out, max_rows, ids);
    log_->cells += rows * static_cast<int64_t>(columns_.size());
    return rows;
  }
  std::optional<torch::Tensor> next_batch() override {
    auto batch = inner_->next_batch();
    if (batch) log_->cells += batch->numel();
    return batch;
  }
  void rewind() override { inner_->rewind(); }
  std::unique_ptr<safetrain::data::TableSource> with_columns(const std::vector<std::string>& names) const override {
    log_->projections.push_back(names);
    return std::make_unique<CountingSource>(inner_->with_columns(names), log_);
  }
  std::string fingerprint() const override { return inner_->fingerprint(); }

 private:
  std::unique_ptr<safetrain::data::TableSource> inner_;
  std::shared_ptr<ReadLog> log_;
};

}  // namespace

TEST(PipelineReads, PassOneReadsOnlyThePairedColumnsAndTheLoadOnlyTheKeptOnes) {
  const int64_t rows = 600;
  auto table = std::make_unique<safetrain::data::TensorTableSource>(known_tables::redundant_table(rows));
  auto log = std::make_shared<ReadLog>();
  CountingSource source(std::move(table), log);
  DescriptorOptions o;
  o.targets = {"target"};
  o.hsic_threshold = 0.25;
  o.rdc = false;
  const auto r = run_pipeline(source, o);
  EXPECT_EQ(r.kept_columns, (std::vector<std::string>{"x_cubed", "other"}));  // as when the table is read whole
  EXPECT_EQ(known_tables::reason_for(r, "x_dup"), "pass 1: exact duplicate of 'x'");
  ASSERT_EQ(log->projections.size(), 2u);
  EXPECT_EQ(log->projections[0], (std::vector<std::string>{"x", "x_dup"}));  // the one hash-equal pair
  // Pass 1's survivors by name, then the target (const, sparse and x_dup are gone).
  EXPECT_EQ(log->projections[1], (std::vector<std::string>{"other", "x", "x_cubed", "x_squared", "target"}));
  EXPECT_EQ(log->cells, rows * (8 + 2 + 5));  // was rows * (8 + 8 + 8): three reads of every column
  EXPECT_GE(r.report["load_seconds"].get<double>(), 0.0);  // the load is timed beside the passes
  EXPECT_GE(r.report["load_cpu_seconds"].get<double>(), 0.0);
}

TEST(PipelineReads, NoHashEqualPairsMeansNoSecondReadInPassOne) {
  torch::manual_seed(3);
  const int64_t rows = 200;
  auto table = std::make_unique<safetrain::data::TensorTableSource>(
      std::vector<std::string>{"a", "b", "c", "t"}, torch::randn({rows, 4}), 64);
  auto log = std::make_shared<ReadLog>();
  CountingSource source(std::move(table), log);
  DescriptorOptions o;
  o.targets = {"t"};
  o.spearman = o.hsic = o.rdc = false;
  const auto r = run_pipeline(source, o);
  EXPECT_EQ(r.kept_columns, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(log->projections.size(), 1u);  // only the survivor load, for the target association
  EXPECT_EQ(log->projections[0], (std::vector<std::string>{"a", "b", "c", "t"}));
  EXPECT_EQ(log->cells, rows * (4 + 4));
}
