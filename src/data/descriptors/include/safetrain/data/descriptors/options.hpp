#pragma once
// The `descriptors.*` settings and their defaults, declared once: the config
// schema binds each key to a member here, and both the trainer's stage and
// `descriptor_pipeline` receive this struct from the same config. Range
// checks live in the schema. LibTorch-free.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

}  // namespace safetrain::data::descriptors
