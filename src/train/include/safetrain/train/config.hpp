#pragma once
// The typed view of a resolved config. Built once from the validated YAML
// tree; every field corresponds to a schema key (config_schema.cpp).
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace safetrain::train {

struct Config {
  std::string source;  // file (or checkpoint) it came from
  YAML::Node tree;     // the resolved tree, for saving and --print-config
  uint64_t seed = 42;

  struct Output { std::string dir, run_name; } output;
  struct Synthetic { int64_t rows = 0, descriptor_columns = 0; double sensor_noise = 0; };
  struct Data {
    std::string source, path, nan_policy, target_prefix;
    std::vector<std::string> targets, features;
    double train_fraction = 0.8, val_fraction = 0.1, test_fraction = 0.1;
    bool standardize_targets = false, drop_last = false;
    int64_t num_workers = 0, max_workers = 2, prefetch_batches = 2;
    Synthetic synthetic;
  } data;
  struct Model {
    std::string type, token_type;
    int64_t hidden = 0, mlp_layers = 0, d_model = 0, num_heads = 0, num_layers = 0, dim_feedforward = 0, patch_size = 0;
    double dropout = 0;
  } model;
  struct Training {
    int64_t batch_size = 0, max_epochs = 0, check_val_every_n_epoch = 1, accumulate_grad_batches = 1;
    double gradient_clip_val = 0;
    std::string gradient_clip_algorithm, precision, optimizer, scheduler, monitor, on_nan, device;
    double lr = 0, weight_decay = 0, momentum = 0, gamma = 0, min_lr = 0, min_delta = 0;
    int64_t warmup_epochs = 0, step_size = 1, plateau_patience = 0, patience = 1, threads = 0, limit_train_batches = 0;
    bool early_stopping = false;
  } training;
  struct Memory {
    int64_t max_validation_outputs = 0, max_test_outputs = 0, empty_cache_every_n_batches = 0;
    double min_free_mb = 0, device_budget_mb = 0;
  } memory;
  struct Monitor {
    bool enabled = true;
    int64_t interval_ms = 200, ring_capacity = 1024, warmup_epochs = 2, window_epochs = 10;
    double leak_mb_per_epoch = 1, warn_rss_mb = 0, critical_rss_mb = 0, warn_device_mb = 0, critical_device_mb = 0,
           min_available_mb = 0;
  } monitor;
  struct Descriptors {
    bool enabled = false, spearman = true, hsic = true, rdc = true, prefer_gpu = false;
    int64_t batch_rows = 0, hsic_sample_rows = 0, rdc_k = 0;
    double max_missing_fraction = 0, min_variance = 0, spearman_threshold = 0, leiden_resolution = 0,
           hsic_threshold = 0, rdc_threshold = 0, rdc_s = 0;
    std::vector<std::string> keep;
  } descriptors;
  struct Logging { std::string progress; int64_t log_every_n_steps = 50; } logging;
  struct Debug { double plant_leak_mb_per_epoch = 0; } debug;
};

// Builds the typed view; also checks cross-key rules (split fractions sum,
// a CSV source needs a path, ...) with InputError naming the keys.
Config make_config(const YAML::Node& resolved_tree, const std::string& source);

}  // namespace safetrain::train
