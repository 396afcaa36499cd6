#include "safetrain/train/config_schema.hpp"

#include <algorithm>
#include <set>

namespace safetrain::train {
namespace {

using K = KeyKind;
constexpr double kHuge = 1e15;

KeySpec key(std::string path, K kind, std::string def, std::optional<double> min,
            std::optional<double> max, std::string help, std::vector<std::string> choices = {}) {
  return KeySpec{std::move(path), kind, std::move(def), min, max, std::move(choices), std::move(help)};
}
KeySpec choice(std::string path, std::string def, std::vector<std::string> choices, std::string help) {
  return KeySpec{std::move(path), K::kEnum, std::move(def), {}, {}, std::move(choices), std::move(help)};
}
KeySpec flag(std::string path, bool def, std::string help) {
  return KeySpec{std::move(path), K::kBool, def ? "true" : "false", {}, {}, {}, std::move(help)};
}
KeySpec text(std::string path, std::string def, std::string help) {
  return KeySpec{std::move(path), K::kString, std::move(def), {}, {}, {}, std::move(help)};
}

std::vector<KeySpec> build_schema() {
  std::vector<KeySpec> s{
      key("seed", K::kInt, "42", 0, kHuge, "seed for data split, init, shuffling and sampling"),
      // output
      text("output.dir", "runs", "parent directory of run directories"),
      text("output.run_name", "", "run directory name; empty = <timestamp>"),
      // data
      choice("data.source", "synthetic", {"synthetic", "csv"}, "where rows come from"),
      text("data.path", "", "CSV file or glob (data.source: csv)"),
      key("data.targets", K::kListOrString, "[x, y, z, roll, pitch, yaw]", {}, {},
          "target columns: a list of names, or one prefix such as target_"),
      key("data.features", K::kStringList, "[]", {}, {}, "feature columns; empty = all non-target columns"),
      choice("data.nan_policy", "error", {"error", "drop_rows", "fill_mean"},
             "NaN in the training features: refuse, drop the rows, or fill with the train mean"),
      key("data.train_fraction", K::kFloat, "0.8", 0.01, 1.0, "share of rows for training"),
      key("data.val_fraction", K::kFloat, "0.1", 0.0, 0.99, "share of rows for validation"),
      key("data.test_fraction", K::kFloat, "0.1", 0.0, 0.99, "share of rows for the final test"),
      flag("data.standardize_targets", false, "also standardise targets with train statistics"),
      key("data.num_workers", K::kInt, "2", 0, 64, "loader worker threads per epoch (0 = main thread)"),
      key("data.max_workers", K::kInt, "2", 0, 64, "cap on num_workers (the seed's safe value)"),
      key("data.prefetch_batches", K::kInt, "2", 1, 1024, "batches prepared ahead: bounds loader memory"),
      flag("data.drop_last", false, "drop the last incomplete training batch"),
      key("data.synthetic.rows", K::kInt, "20000", 10, 1e9, "rows of the synthetic 6-DoF arm data"),
      key("data.synthetic.descriptor_columns", K::kInt, "48", 0, 100000,
          "redundant descriptor columns added to the synthetic data"),
      key("data.synthetic.sensor_noise", K::kFloat, "0.01", 0.0, 10.0, "sensor noise standard deviation"),
      // model
      choice("model.type", "transformer", {"mlp", "transformer"}, "model family"),
      key("model.hidden", K::kInt, "256", 1, 1e6, "mlp: hidden width"),
      key("model.mlp_layers", K::kInt, "2", 1, 1000, "mlp: hidden layers"),
      key("model.dropout", K::kFloat, "0.1", 0.0, 0.99, "dropout probability"),
      key("model.d_model", K::kInt, "512", 1, 1e6, "transformer: token width"),
      key("model.num_heads", K::kInt, "8", 1, 1024, "transformer: attention heads (divides d_model)"),
      key("model.num_layers", K::kInt, "4", 1, 1000, "transformer: encoder layers"),
      key("model.dim_feedforward", K::kInt, "0", 0, 1e7, "transformer: feed-forward width; 0 = 4*d_model"),
      choice("model.token_type", "patch", {"patch", "feature"},
             "transformer: patch_size features per token, or one token per feature"),
      key("model.patch_size", K::kInt, "4", 1, 1e6, "transformer: features per patch token"),
      // training
      key("training.batch_size", K::kInt, "4", 1, 1e7, "samples per batch"),
      key("training.max_epochs", K::kInt, "50", 1, 1e7, "epochs to train"),
      key("training.check_val_every_n_epoch", K::kInt, "2", 1, 1e7, "validate every N epochs (and after the last)"),
      key("training.accumulate_grad_batches", K::kInt, "4", 1, 1e5, "batches per optimizer step"),
      key("training.gradient_clip_val", K::kFloat, "0.5", 0.0, kHuge, "clip threshold; 0 = no clipping"),
      choice("training.gradient_clip_algorithm", "norm", {"norm", "value"}, "clip the global norm or each value"),
      choice("training.precision", "16", {"32", "16", "bf16"},
             "16: fp16 autocast + dynamic loss scaling on CUDA (32 on CPU); bf16: autocast"),
      choice("training.optimizer", "adamw", {"adam", "adamw", "sgd"}, "optimizer"),
      key("training.lr", K::kFloat, "0.0003", 0.0, 100.0, "learning rate"),
      key("training.weight_decay", K::kFloat, "0.01", 0.0, 10.0, "weight decay"),
      key("training.momentum", K::kFloat, "0.9", 0.0, 1.0, "sgd momentum"),
      choice("training.scheduler", "cosine", {"none", "cosine", "step", "plateau"}, "learning-rate schedule (per epoch)"),
      key("training.warmup_epochs", K::kInt, "1", 0, 1e6, "linear warm-up epochs before the schedule"),
      key("training.step_size", K::kInt, "10", 1, 1e6, "step: epochs between decays"),
      key("training.gamma", K::kFloat, "0.5", 0.0, 1.0, "step/plateau: decay factor"),
      key("training.plateau_patience", K::kInt, "3", 0, 1e6, "plateau: validations without improvement before decay"),
      key("training.min_lr", K::kFloat, "1e-6", 0.0, 100.0, "lower bound of the learning rate"),
      flag("training.early_stopping", true, "stop when the monitored metric stops improving"),
      key("training.patience", K::kInt, "5", 1, 1e6, "early stopping: validations without improvement"),
      key("training.min_delta", K::kFloat, "0.0", 0.0, kHuge, "early stopping: smallest improvement that counts"),
      choice("training.monitor", "val_loss", {"val_loss", "val_mae", "train_loss"},
             "metric for best checkpoint, plateau and early stopping (lower is better)"),
      choice("training.on_nan", "stop", {"skip", "stop"}, "non-finite loss: skip the batch, or save and stop"),
      key("training.threads", K::kIntOrAuto, "auto", 1, 1024, "intra-op threads; auto = all cores"),
      choice("training.device", "auto", {"auto", "cpu", "cuda"}, "auto = CUDA when available"),
      key("training.limit_train_batches", K::kInt, "0", 0, 1e9, "train on at most N batches per epoch; 0 = all"),
      // memory
      key("memory.max_validation_outputs", K::kInt, "10000", 0, 1e9, "validation samples kept for plots (reservoir)"),
      key("memory.max_test_outputs", K::kInt, "10000", 0, 1e9, "test samples kept for plots and predictions"),
      key("memory.empty_cache_every_n_batches", K::kInt, "50", 0, 1e9, "release cached memory every N batches; 0 = only at epoch end"),
      key("memory.min_free_mb", K::kFloat, "1200", 0.0, kHuge, "memory that must stay free after the model is built"),
      key("memory.device_budget_mb", K::kFloat, "0", 0.0, kHuge, "CUDA: cap on what the caching allocator may take; 0 = none"),
      // monitor
      flag("monitor.enabled", true, "run the memory monitor thread"),
      key("monitor.interval_ms", K::kInt, "200", 10, 600000, "sampling interval"),
      key("monitor.ring_capacity", K::kInt, "1024", 16, 1e7, "samples kept in memory (memory.csv has them all)"),
      key("monitor.warmup_epochs", K::kInt, "2", 0, 1e6, "epochs ignored by the leak detector"),
      key("monitor.window_epochs", K::kInt, "10", 3, 1e6, "epochs in the leak detector's sliding window"),
      key("monitor.leak_mb_per_epoch", K::kFloat, "1.0", 0.0, kHuge, "growth per epoch that counts as a leak"),
      key("monitor.warn_rss_mb", K::kFloat, "0", 0.0, kHuge, "RSS that triggers a warning and a trim; 0 = off"),
      key("monitor.critical_rss_mb", K::kFloat, "0", 0.0, kHuge, "RSS that stops the run cleanly; 0 = off"),
      key("monitor.warn_device_mb", K::kFloat, "0", 0.0, kHuge, "device memory warning; 0 = off"),
      key("monitor.critical_device_mb", K::kFloat, "0", 0.0, kHuge, "device memory that stops the run; 0 = off"),
      key("monitor.min_available_mb", K::kFloat, "256", 0.0, kHuge, "system MemAvailable floor that stops the run; 0 = off"),
      // descriptors
      flag("descriptors.enabled", false, "prune feature columns before training (training split only)"),
      key("descriptors.batch_rows", K::kInt, "8192", 16, 1e9, "rows per batch while streaming"),
      key("descriptors.max_missing_fraction", K::kFloat, "0.5", 0.0, 1.0, "drop columns missing more often"),
      key("descriptors.min_variance", K::kFloat, "1e-10", 0.0, kHuge, "drop columns with smaller variance"),
      flag("descriptors.spearman", true, "pass 2: Spearman + Leiden"),
      key("descriptors.spearman_threshold", K::kFloat, "0.95", 0.0, 1.0, "edge where |rho| >= this"),
      key("descriptors.leiden_resolution", K::kFloat, "1.0", 0.0, kHuge, "Leiden resolution"),
      flag("descriptors.hsic", true, "pass 3: HSIC"),
      key("descriptors.hsic_threshold", K::kFloat, "0.9", 0.0, 1.0, "normalised HSIC above which a pair is redundant"),
      key("descriptors.hsic_sample_rows", K::kInt, "512", 10, 20000, "rows sampled for HSIC and RDC (memory: rows^2 x 4 bytes per column)"),
      flag("descriptors.rdc", true, "pass 4: RDC"),
      key("descriptors.rdc_threshold", K::kFloat, "0.95", 0.0, 1.0, "RDC above which a pair is redundant"),
      key("descriptors.rdc_k", K::kInt, "20", 1, 1000, "random projections per column"),
      key("descriptors.rdc_s", K::kFloat, "0.1666667", 0.0, kHuge, "projection scale"),
      key("descriptors.keep", K::kStringList, "[]", {}, {}, "columns never pruned"),
      flag("descriptors.prefer_gpu", false, "run the matrix work on CUDA when available"),
      // logging
      choice("logging.progress", "auto", {"auto", "bar", "lines", "off"},
             "auto: an updating line on a terminal, plain lines otherwise"),
      key("logging.log_every_n_steps", K::kInt, "50", 1, 1e9, "plain progress line every N steps"),
  };
  KeySpec leak = key("debug.plant_leak_mb_per_epoch", K::kFloat, "0", 0.0, 1e6,
                     "test hook: keep this many MB per validation epoch (proves the leak detector)");
  leak.hidden = true;
  s.push_back(leak);
  return s;
}

}  // namespace

const std::vector<KeySpec>& config_schema() {
  static const std::vector<KeySpec> schema = build_schema();
  return schema;
}

const KeySpec* find_key(const std::string& path) {
  for (const auto& spec : config_schema()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

bool is_section(const std::string& path) {
  const std::string prefix = path + ".";
  return std::any_of(config_schema().begin(), config_schema().end(),
                     [&](const KeySpec& s) { return s.path.rfind(prefix, 0) == 0; });
}

std::vector<std::string> children_of(const std::string& section) {
  const std::string prefix = section.empty() ? "" : section + ".";
  std::set<std::string> names;
  for (const auto& spec : config_schema()) {
    if (spec.path.rfind(prefix, 0) != 0) continue;
    const std::string rest = spec.path.substr(prefix.size());
    names.insert(rest.substr(0, rest.find('.')));
  }
  return {names.begin(), names.end()};
}

const char* kind_name(KeyKind kind) {
  switch (kind) {
    case K::kInt: return "an integer";
    case K::kFloat: return "a number";
    case K::kBool: return "true or false";
    case K::kString: return "a string";
    case K::kEnum: return "one of the listed values";
    case K::kStringList: return "a list of strings";
    case K::kListOrString: return "a list of strings or one string";
    case K::kIntOrAuto: return "an integer or auto";
  }
  return "?";
}

}  // namespace safetrain::train
