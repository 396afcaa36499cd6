#pragma once
// The descriptor pipeline: prunes redundant feature columns in passes
//   0 stats (streaming) -> 1 filter (missing, variance, exact duplicates)
//   -> 2 Spearman + Leiden communities -> 3 HSIC -> 4 RDC
// Memory: passes 0-1 hold one row batch plus per-column accumulators; passes
// 2-4 hold the surviving columns' ranks (rows x survivors floats) and, for
// HSIC, one centred kernel per survivor (hsic_sample_rows^2 floats each).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/data/descriptors/row_source.hpp"

namespace safetrain::data::descriptors {

struct DescriptorOptions {
  int64_t batch_rows = 4096;
  double max_missing_fraction = 0.5, min_variance = 1e-8;
  bool spearman = true;
  double spearman_threshold = 0.95, leiden_resolution = 1.0;
  bool hsic = true;
  int64_t hsic_sample_rows = 512;
  double hsic_threshold = 0.9;
  bool rdc = true;
  int64_t rdc_k = 20;
  double rdc_s = 1.0 / 6.0, rdc_threshold = 0.95;
  std::vector<std::string> targets, keep;  // never pruned
  uint64_t seed = 42;
  bool prefer_gpu = false;
  std::filesystem::path checkpoint_dir;    // empty: no per-pass checkpoints
};

struct ColumnDecision {
  std::string column;
  bool kept = true;
  int pass = -1;       // the pass that dropped it
  std::string reason;
};

struct PipelineResult {
  std::vector<std::string> kept_columns;  // features kept, input order, targets excluded
  std::vector<ColumnDecision> decisions;
  nlohmann::json report;
};

PipelineResult run_pipeline(RowBatchSource& source, const DescriptorOptions& options);
void write_outputs(const PipelineResult& result, const std::filesystem::path& output_dir);
std::string cache_key(const RowBatchSource& source, const DescriptorOptions& options);

}  // namespace safetrain::data::descriptors
