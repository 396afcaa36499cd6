#pragma once
// The descriptor pipeline: prunes redundant feature columns in passes
//   0 stats (streaming) -> 1 filter (missing, variance, exact duplicates)
//   -> 2 Spearman + Leiden communities -> 3 HSIC -> 4 RDC
// Memory bound (rows n, batch b, columns c, pass-1 survivors k, HSIC/RDC sample m):
//   passes 0-1: one batch (b x c floats) plus per-column accumulators (O(c));
//   passes 2-4 hold the survivors once (k x n float32, ranked in place) and the row sample
//   (k x m floats); every other buffer (rank scratch, product blocks, feature and Gram blocks,
//   pairwise re-ranks) is counted and sized from max_working_mb, and each pass reports its largest
//   counted working set. Scores are kept only as pairs at or above a threshold, never k x k.
// Decisions do not depend on column order: survivors are processed in name order and every choice
// between columns uses a total order (target association, missing fraction, variance, name).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/data/descriptors/options.hpp"
#include "safetrain/data/table_source.hpp"

namespace safetrain::data::descriptors {


struct ColumnDecision {
  std::string column;
  bool kept = true;
  int pass = -1;        // the pass that dropped it (-1 when kept)
  std::string reason;
  std::string partner;  // the column it was redundant with, if any (kept when that pass ended)
  std::string represented_by;  // the finally kept column that stands for it (partners followed), if any
};

struct ClusterAssignment {  // pass 2: which Leiden community a column fell in and who represents it
  std::string column;
  int64_t community = -1;
  std::string representative;
};

struct PipelineResult {
  std::vector<std::string> kept_columns;  // features kept, input order, targets excluded
  std::vector<ColumnDecision> decisions;  // one per feature column
  std::vector<ClusterAssignment> clusters;
  nlohmann::json report;
};

PipelineResult run_pipeline(TableSource& source, const DescriptorOptions& options);
// selected_columns.txt/.json, report.json, clusters.csv in output_dir, each written atomically.
void write_outputs(const PipelineResult& result, const std::filesystem::path& output_dir);
// Input fingerprint + every `fields::setting` of the options' field list (not batch size, device or checkpoints),
// under kCacheKeyVersion (raised when the key's text changes shape, so older caches are rebuilt).
inline constexpr int kCacheKeyVersion = 5;
std::string cache_key(const TableSource& source, const DescriptorOptions& options);

}  // namespace safetrain::data::descriptors
