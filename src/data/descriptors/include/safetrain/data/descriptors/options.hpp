#pragma once
// The `descriptors.*` settings and their defaults, declared once: the config
// schema binds each key to a member here, and both the trainer's stage and
// `descriptor_pipeline` receive this struct from the same config. Range
// checks live in the schema. LibTorch-free. Its field list (for_each_field,
// below) is what the pruner's cache key, report.json's "settings" and any JSON
// of it are written from.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "safetrain/common/field_list.hpp"

namespace safetrain::data::descriptors {

struct DescriptorOptions {
  bool enabled = false;  // the trainer's stage only: prune before training
  int64_t batch_rows = 8192;
  double max_missing_fraction = 0.5, min_variance = 1e-10;
  bool spearman = true;
  double spearman_threshold = 0.95, leiden_resolution = 1.0;
  // Missing cells in Spearman: "pairwise" (each pair over the rows where both are present, like
  // pandas), "fill_mean" (a missing cell takes the column's mean rank: one matrix product, fastest),
  // "drop_rows" (rows with any missing survivor cell are left out of passes 2-4).
  std::string nan_policy = "pairwise";
  bool hsic = true;
  int64_t hsic_sample_rows = 512;  // also the RDC sample
  double hsic_threshold = 0.9;
  bool rdc = true;
  int64_t rdc_k = 20;
  double rdc_s = 1.0 / 6.0, rdc_threshold = 0.95;
  std::vector<std::string> keep;     // never pruned
  std::vector<std::string> targets;  // not a key: resolved from the data.targets rules; never pruned
  uint64_t seed = 0;  // not a descriptors.* key: the run's seed
  int64_t max_working_mb = 256;  // scratch bound of every pass (rank buffers, product/kernel blocks)
  bool prefer_gpu = false;
  std::filesystem::path checkpoint_dir;  // not a key (--checkpoint); empty: no per-pass checkpoints
  // Called after each finished pass (its report entry); progress output, and tests interrupt with it.
  std::function<void(const nlohmann::json& pass_report)> on_pass_finished;
};

// Every member, once. `setting`: the selection depends on it (in the cache key); `tuning`: only how the passes
// run (written to the report, not in the key); `transient`: never written. tests/descriptors checks that every
// member is listed and that every setting changes the cache key.
template <class Self, class Visit>
fields::ListOf<Self, DescriptorOptions> for_each_field(Self& o, Visit&& visit) {
  visit("enabled", o.enabled, fields::tuning);
  visit("batch_rows", o.batch_rows, fields::tuning);
  visit("max_missing_fraction", o.max_missing_fraction, fields::setting);
  visit("min_variance", o.min_variance, fields::setting);
  visit("spearman", o.spearman, fields::setting);
  visit("spearman_threshold", o.spearman_threshold, fields::setting);
  visit("leiden_resolution", o.leiden_resolution, fields::setting);
  visit("nan_policy", o.nan_policy, fields::setting);
  visit("hsic", o.hsic, fields::setting);
  visit("hsic_sample_rows", o.hsic_sample_rows, fields::setting);
  visit("hsic_threshold", o.hsic_threshold, fields::setting);
  visit("rdc", o.rdc, fields::setting);
  visit("rdc_k", o.rdc_k, fields::setting);
  visit("rdc_s", o.rdc_s, fields::setting);
  visit("rdc_threshold", o.rdc_threshold, fields::setting);
  visit("keep", o.keep, fields::setting);
  visit("targets", o.targets, fields::setting);
  visit("seed", o.seed, fields::setting);
  visit("max_working_mb", o.max_working_mb, fields::tuning);
  visit("prefer_gpu", o.prefer_gpu, fields::tuning);
  visit("checkpoint_dir", o.checkpoint_dir, fields::transient);
  visit("on_pass_finished", o.on_pass_finished, fields::transient);
}

}  // namespace safetrain::data::descriptors
