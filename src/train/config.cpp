#include "safetrain/train/config.hpp"

#include <thread>

#include "safetrain/common/error.hpp"
#include "safetrain/common/text.hpp"

namespace safetrain::train {
namespace {

YAML::Node at(const YAML::Node& tree, const std::string& path) {
  YAML::Node current = tree;
  for (const auto& part : text::split(path, '.')) current.reset(current[part]);
  return current;
}

template <typename T>
T get(const YAML::Node& tree, const std::string& path) {
  return at(tree, path).as<T>();
}

std::vector<std::string> get_list(const YAML::Node& tree, const std::string& path) {
  const YAML::Node node = at(tree, path);
  std::vector<std::string> out;
  if (node.IsSequence()) {
    for (const auto& item : node) out.push_back(item.as<std::string>());
  }
  return out;
}

void check_cross_key_rules(const Config& c) {
  const double sum = c.data.train_fraction + c.data.val_fraction + c.data.test_fraction;
  if (sum > 1.0 + 1e-9) {
    throw InputError(c.source + ": data.train_fraction + data.val_fraction + data.test_fraction must be <= 1, got " +
                     std::to_string(sum));
  }
  if (c.data.source == "csv" && c.data.path.empty()) {
    throw InputError(c.source + ": data.path: required when data.source is csv");
  }
  if (c.data.val_fraction <= 0.0) {
    throw InputError(c.source + ": data.val_fraction: must be > 0 (validation drives checkpoints and plots)");
  }
  if (c.data.targets.empty() && c.data.target_prefix.empty()) {
    throw InputError(c.source + ": data.targets: name at least one target column");
  }
  if (c.model.type == "transformer" && c.model.d_model % c.model.num_heads != 0) {
    throw InputError(c.source + ": model.num_heads: must divide model.d_model (" + std::to_string(c.model.d_model) +
                     " % " + std::to_string(c.model.num_heads) + " != 0)");
  }
}

}  // namespace

Config make_config(const YAML::Node& t, const std::string& source) {
  Config c;
  c.source = source;
  c.tree = YAML::Clone(t);
  c.seed = get<uint64_t>(t, "seed");
  c.output = {get<std::string>(t, "output.dir"), get<std::string>(t, "output.run_name")};

  auto& d = c.data;
  d.source = get<std::string>(t, "data.source");
  d.path = get<std::string>(t, "data.path");
  const YAML::Node targets = at(t, "data.targets");
  if (targets.IsSequence()) d.targets = get_list(t, "data.targets");
  else d.target_prefix = targets.as<std::string>();
  d.features = get_list(t, "data.features");
  d.nan_policy = get<std::string>(t, "data.nan_policy");
  d.train_fraction = get<double>(t, "data.train_fraction");
  d.val_fraction = get<double>(t, "data.val_fraction");
  d.test_fraction = get<double>(t, "data.test_fraction");
  d.standardize_targets = get<bool>(t, "data.standardize_targets");
  d.num_workers = get<int64_t>(t, "data.num_workers");
  d.max_workers = get<int64_t>(t, "data.max_workers");
  d.prefetch_batches = get<int64_t>(t, "data.prefetch_batches");
  d.drop_last = get<bool>(t, "data.drop_last");
  d.synthetic = {get<int64_t>(t, "data.synthetic.rows"), get<int64_t>(t, "data.synthetic.descriptor_columns"),
                 get<double>(t, "data.synthetic.sensor_noise")};

  auto& m = c.model;
  m.type = get<std::string>(t, "model.type");
  m.token_type = get<std::string>(t, "model.token_type");
  m.hidden = get<int64_t>(t, "model.hidden");
  m.mlp_layers = get<int64_t>(t, "model.mlp_layers");
  m.d_model = get<int64_t>(t, "model.d_model");
  m.num_heads = get<int64_t>(t, "model.num_heads");
  m.num_layers = get<int64_t>(t, "model.num_layers");
  m.dim_feedforward = get<int64_t>(t, "model.dim_feedforward");
  m.patch_size = get<int64_t>(t, "model.patch_size");
  m.dropout = get<double>(t, "model.dropout");

  auto& tr = c.training;
  tr.batch_size = get<int64_t>(t, "training.batch_size");
  tr.max_epochs = get<int64_t>(t, "training.max_epochs");
  tr.check_val_every_n_epoch = get<int64_t>(t, "training.check_val_every_n_epoch");
  tr.accumulate_grad_batches = get<int64_t>(t, "training.accumulate_grad_batches");
  tr.gradient_clip_val = get<double>(t, "training.gradient_clip_val");
  tr.gradient_clip_algorithm = get<std::string>(t, "training.gradient_clip_algorithm");
  tr.precision = get<std::string>(t, "training.precision");
  tr.optimizer = get<std::string>(t, "training.optimizer");
  tr.lr = get<double>(t, "training.lr");
  tr.weight_decay = get<double>(t, "training.weight_decay");
  tr.momentum = get<double>(t, "training.momentum");
  tr.scheduler = get<std::string>(t, "training.scheduler");
  tr.warmup_epochs = get<int64_t>(t, "training.warmup_epochs");
  tr.step_size = get<int64_t>(t, "training.step_size");
  tr.gamma = get<double>(t, "training.gamma");
  tr.plateau_patience = get<int64_t>(t, "training.plateau_patience");
  tr.min_lr = get<double>(t, "training.min_lr");
  tr.early_stopping = get<bool>(t, "training.early_stopping");
  tr.patience = get<int64_t>(t, "training.patience");
  tr.min_delta = get<double>(t, "training.min_delta");
  tr.monitor = get<std::string>(t, "training.monitor");
  tr.on_nan = get<std::string>(t, "training.on_nan");
  const std::string threads = get<std::string>(t, "training.threads");
  tr.threads = threads == "auto" ? std::max(1u, std::thread::hardware_concurrency()) : std::stoll(threads);
  tr.device = get<std::string>(t, "training.device");
  tr.limit_train_batches = get<int64_t>(t, "training.limit_train_batches");

  auto& mem = c.memory;
  mem.max_validation_outputs = get<int64_t>(t, "memory.max_validation_outputs");
  mem.max_test_outputs = get<int64_t>(t, "memory.max_test_outputs");
  mem.empty_cache_every_n_batches = get<int64_t>(t, "memory.empty_cache_every_n_batches");
  mem.min_free_mb = get<double>(t, "memory.min_free_mb");
  mem.device_budget_mb = get<double>(t, "memory.device_budget_mb");

  auto& mon = c.monitor;
  mon.enabled = get<bool>(t, "monitor.enabled");
  mon.interval_ms = get<int64_t>(t, "monitor.interval_ms");
  mon.ring_capacity = get<int64_t>(t, "monitor.ring_capacity");
  mon.warmup_epochs = get<int64_t>(t, "monitor.warmup_epochs");
  mon.window_epochs = get<int64_t>(t, "monitor.window_epochs");
  mon.leak_mb_per_epoch = get<double>(t, "monitor.leak_mb_per_epoch");
  mon.warn_rss_mb = get<double>(t, "monitor.warn_rss_mb");
  mon.critical_rss_mb = get<double>(t, "monitor.critical_rss_mb");
  mon.warn_device_mb = get<double>(t, "monitor.warn_device_mb");
  mon.critical_device_mb = get<double>(t, "monitor.critical_device_mb");
  mon.min_available_mb = get<double>(t, "monitor.min_available_mb");

  auto& ds = c.descriptors;
  ds.enabled = get<bool>(t, "descriptors.enabled");
  ds.batch_rows = get<int64_t>(t, "descriptors.batch_rows");
  ds.max_missing_fraction = get<double>(t, "descriptors.max_missing_fraction");
  ds.min_variance = get<double>(t, "descriptors.min_variance");
  ds.spearman = get<bool>(t, "descriptors.spearman");
  ds.spearman_threshold = get<double>(t, "descriptors.spearman_threshold");
  ds.leiden_resolution = get<double>(t, "descriptors.leiden_resolution");
  ds.hsic = get<bool>(t, "descriptors.hsic");
  ds.hsic_threshold = get<double>(t, "descriptors.hsic_threshold");
  ds.hsic_sample_rows = get<int64_t>(t, "descriptors.hsic_sample_rows");
  ds.rdc = get<bool>(t, "descriptors.rdc");
  ds.rdc_threshold = get<double>(t, "descriptors.rdc_threshold");
  ds.rdc_k = get<int64_t>(t, "descriptors.rdc_k");
  ds.rdc_s = get<double>(t, "descriptors.rdc_s");
  ds.keep = get_list(t, "descriptors.keep");
  ds.prefer_gpu = get<bool>(t, "descriptors.prefer_gpu");

  c.logging = {get<std::string>(t, "logging.progress"), get<int64_t>(t, "logging.log_every_n_steps")};
  c.debug.plant_leak_mb_per_epoch = get<double>(t, "debug.plant_leak_mb_per_epoch");

  check_cross_key_rules(c);
  return c;
}

}  // namespace safetrain::train
