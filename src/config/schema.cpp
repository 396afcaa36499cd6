// The schema table: every config key, bound to the member that holds its
// default (see binding.hpp), with its range and help text.
#include "safetrain/config/schema.hpp"

#include "binding.hpp"

namespace safetrain::config {
namespace {

constexpr double kHuge = 1e15;
using R = Range;

std::vector<KeySpec> top_and_data_keys() {
  return {
      bind("seed", SAFETRAIN_FIELD(seed), R::between(0, kHuge), "seed for data split, init, shuffling and sampling"),
      bind("output.dir", SAFETRAIN_FIELD(output.dir), R::any(), "parent directory of run directories"),
      bind("output.run_name", SAFETRAIN_FIELD(output.run_name), R::any(), "run directory name; empty = <timestamp>"),
      bind("data.source", SAFETRAIN_FIELD(data.source), R::any(), "where rows come from"),
      bind("data.path", SAFETRAIN_FIELD(data.path), R::any(),
           "table file, glob or dataset directory (data.source: csv): CSV, .csv.gz, .csv.zst or Parquet"),
      bind("data.format", SAFETRAIN_FIELD(data.read.format), R::any(),
           "format of data.path: auto (by extension: .csv .tsv .txt .csv.gz .csv.zst | .parquet .pq), csv, parquet"),
      bind("data.csv.delimiter", SAFETRAIN_FIELD(data.read.csv.delimiter), R::any(),
           "CSV field delimiter: auto (the most frequent of , ; tab in the header line), tab, or one character"),
      bind("data.csv.quote", SAFETRAIN_FIELD(data.read.csv.quote), R::any(),
           "CSV quote character (RFC 4180: a quoted field may hold delimiters, line breaks and doubled quotes); "
           "empty = no quoting"),
      bind("data.csv.decimal", SAFETRAIN_FIELD(data.read.csv.decimal), R::any(),
           "decimal mark of the CSV numbers: . or , (as spreadsheets in many locales export, with ; between "
           "fields); with , a cell holding a . is refused rather than read with it as a thousands separator"),
      bind("data.storage", SAFETRAIN_FIELD(data.storage), R::any(),
           "memory: the table in RAM; mmap: converted once into cache files under output.dir/.cache/data "
           "and memory-mapped, for tables larger than RAM (data.source: csv, any format; no data.id_columns)"),
      bind("data.targets", SAFETRAIN_FIELD(data.targets), R::any(),
           "target columns: a list of names, or one prefix such as target_"),
      bind("data.features", SAFETRAIN_FIELD(data.features), R::any(), "feature columns; empty = all non-target columns"),
      bind("data.id_columns", SAFETRAIN_FIELD(data.id_columns), R::any(),
           "text columns carried into every predictions file (never features)"),
      bind("data.ignore_columns", SAFETRAIN_FIELD(data.ignore_columns), R::any(), "columns never read"),
      bind("data.nan_policy", SAFETRAIN_FIELD(data.split.nan_policy), R::any(),
           "NaN in the training features: refuse, drop the rows, or fill with the train mean"),
      bind("data.train_fraction", SAFETRAIN_FIELD(data.split.train_fraction), R::between(0.01, 1.0),
           "share of rows for training"),
      bind("data.val_fraction", SAFETRAIN_FIELD(data.split.val_fraction), R::between(0.0, 0.99),
           "share of rows for validation"),
      bind("data.test_fraction", SAFETRAIN_FIELD(data.split.test_fraction), R::between(0.0, 0.99),
           "share of rows for the final test"),
      bind("data.split_column", SAFETRAIN_FIELD(data.split.split_column), R::any(),
           "text column whose values train, val or test place each row (the fractions are then unused); empty = a "
           "seeded random split; data.storage: memory"),
      bind("data.group_column", SAFETRAIN_FIELD(data.split.group_column), R::any(),
           "column of group names (a scaffold, a patient): all rows of a group land in one split, groups drawn by "
           "seed until the fractions are met (approximately); data.storage: memory"),
      bind("data.standardize_targets", SAFETRAIN_FIELD(data.split.standardize_targets), R::any(),
           "also standardise targets with train statistics"),
      bind("data.num_workers", SAFETRAIN_FIELD(data.workers.num_workers), R::between(0, 64),
           "loader worker threads per epoch (0 = main thread)"),
      bind("data.max_workers", SAFETRAIN_FIELD(data.workers.max_workers), R::between(0, 64),
           "cap on num_workers (the seed's safe value)"),
      bind("data.prefetch_batches", SAFETRAIN_FIELD(data.workers.prefetch_batches), R::between(1, 1024),
           "batches prepared ahead: bounds loader memory"),
      bind("data.drop_last", SAFETRAIN_FIELD(data.drop_last), R::any(), "drop the last incomplete training batch"),
      bind("data.synthetic.rows", SAFETRAIN_FIELD(data.synthetic.rows), R::between(10, 1e9),
           "rows of the synthetic 6-DoF arm data"),
      bind("data.synthetic.descriptor_columns", SAFETRAIN_FIELD(data.synthetic.descriptor_columns),
           R::between(0, 100000), "redundant descriptor columns added to the synthetic data"),
      bind("data.synthetic.sensor_noise", SAFETRAIN_FIELD(data.synthetic.sensor_noise), R::between(0.0, 10.0),
           "sensor noise standard deviation"),
  };
}

std::vector<KeySpec> model_keys() {
  return {
      bind("model.type", SAFETRAIN_FIELD(model.type), R::any(), "model family"),
      bind("model.hidden", SAFETRAIN_FIELD(model.hidden), R::between(1, 1e6), "mlp: hidden width"),
      bind("model.mlp_layers", SAFETRAIN_FIELD(model.mlp_layers), R::between(1, 1000), "mlp: hidden layers"),
      bind("model.dropout", SAFETRAIN_FIELD(model.dropout), R::between(0.0, 0.99), "dropout probability"),
      bind("model.d_model", SAFETRAIN_FIELD(model.d_model), R::between(1, 1e6), "transformer: token width"),
      bind("model.num_heads", SAFETRAIN_FIELD(model.num_heads), R::between(1, 1024),
           "transformer: attention heads (divides d_model)"),
      bind("model.num_layers", SAFETRAIN_FIELD(model.num_layers), R::between(1, 1000), "transformer: encoder layers"),
      bind("model.dim_feedforward", SAFETRAIN_FIELD(model.dim_feedforward), R::between(0, 1e7),
           "transformer: feed-forward width; 0 = 4*d_model"),
      bind("model.token_type", SAFETRAIN_FIELD(model.token_type), R::any(),
           "transformer: patch_size features per token, or one token per feature"),
      bind("model.patch_size", SAFETRAIN_FIELD(model.patch_size), R::between(1, 1e6),
           "transformer: features per patch token"),
  };
}

std::vector<KeySpec> training_keys() {
  return {
      bind("training.batch_size", SAFETRAIN_FIELD(training.batch_size), R::between(1, 1e7), "samples per batch"),
      bind("training.max_epochs", SAFETRAIN_FIELD(training.max_epochs), R::between(1, 1e7), "epochs to train"),
      bind("training.check_val_every_n_epoch", SAFETRAIN_FIELD(training.check_val_every_n_epoch), R::between(1, 1e7),
           "validate every N epochs (and after the last)"),
      bind("training.accumulate_grad_batches", SAFETRAIN_FIELD(training.accumulate_grad_batches), R::between(1, 1e5),
           "batches per optimizer step"),
      bind("training.gradient_clip_val", SAFETRAIN_FIELD(training.gradient_clip_val), R::between(0.0, kHuge),
           "clip threshold; 0 = no clipping"),
      bind("training.gradient_clip_algorithm", SAFETRAIN_FIELD(training.gradient_clip_algorithm), R::any(),
           "clip the global norm or each value"),
      bind("training.precision", SAFETRAIN_FIELD(training.precision), R::any(),
           "16: fp16 autocast + dynamic loss scaling on CUDA (32 on CPU); bf16: autocast"),
      bind("training.optimizer", SAFETRAIN_FIELD(training.optimizer), R::any(), "optimizer"),
      bind("training.lr", SAFETRAIN_FIELD(training.lr), R::between(0.0, 100.0), "learning rate"),
      bind("training.weight_decay", SAFETRAIN_FIELD(training.weight_decay), R::between(0.0, 10.0), "weight decay"),
      bind("training.momentum", SAFETRAIN_FIELD(training.momentum), R::between(0.0, 1.0), "sgd momentum"),
      bind("training.scheduler", SAFETRAIN_FIELD(training.scheduler), R::any(), "learning-rate schedule (per epoch)"),
      bind("training.warmup_epochs", SAFETRAIN_FIELD(training.warmup_epochs), R::between(0, 1e6),
           "linear warm-up epochs before the schedule"),
      bind("training.step_size", SAFETRAIN_FIELD(training.step_size), R::between(1, 1e6),
           "step: epochs between decays"),
      bind("training.gamma", SAFETRAIN_FIELD(training.gamma), R::between(0.0, 1.0), "step/plateau: decay factor"),
      bind("training.plateau_patience", SAFETRAIN_FIELD(training.plateau_patience), R::between(0, 1e6),
           "plateau: validations without improvement before decay"),
      bind("training.min_lr", SAFETRAIN_FIELD(training.min_lr), R::between(0.0, 100.0),
           "lower bound of the learning rate"),
      bind("training.early_stopping", SAFETRAIN_FIELD(training.early_stopping), R::any(),
           "stop when the monitored metric stops improving"),
      bind("training.patience", SAFETRAIN_FIELD(training.patience), R::between(1, 1e6),
           "early stopping: validations without improvement"),
      bind("training.min_delta", SAFETRAIN_FIELD(training.min_delta), R::between(0.0, kHuge),
           "smallest improvement that counts (early stopping and the best checkpoint)"),
      bind("training.monitor", SAFETRAIN_FIELD(training.monitor), R::any(),
           "metric for best checkpoint, plateau and early stopping (lower is better)"),
      bind("training.on_nan", SAFETRAIN_FIELD(training.on_nan), R::any(),
           "non-finite loss: skip the batch, or save and stop"),
      bind("training.on_oom", SAFETRAIN_FIELD(training.on_oom), R::any(),
           "out of memory: save and stop, or shrink (training: halve the micro-batch, accumulate x2, retry; validation "
           "and test: evaluate their batches in halved pieces)"),
      bind("training.threads", SAFETRAIN_FIELD(training.threads), R::between(1, 1024),
           "intra-op threads; auto = all cores"),
      bind("training.device", SAFETRAIN_FIELD(training.device), R::any(), "auto = CUDA when available"),
      bind("training.limit_train_batches", SAFETRAIN_FIELD(training.limit_train_batches), R::between(0, 1e9),
           "train on at most N batches per epoch; 0 = all"),
      bind("training.strategy", SAFETRAIN_FIELD(training.strategy), R::any(),
           "single process, or data-parallel ranks (implied when WORLD_SIZE > 1; under srun set ddp)"),
      bind("training.ddp_backend", SAFETRAIN_FIELD(training.ddp_backend), R::any(),
           "ddp: collective backend; auto = nccl on CUDA, gloo on CPU"),
      bind("training.ddp_timeout_s", SAFETRAIN_FIELD(training.ddp_timeout_s), R::between(1, 86400),
           "ddp: seconds to wait for the other ranks (rendezvous, each collective) before exiting with a message"),
      bind("training.ddp_bucket_mb", SAFETRAIN_FIELD(training.ddp_bucket_mb), R::between(0.001, 4096.0),
           "ddp: gradients are averaged in flat buckets of about this size, one all-reduce each"),
      bind("checkpoint.every_n_epochs", SAFETRAIN_FIELD(training.checkpoint_every_n_epochs), R::between(1, 1e6),
           "write checkpoints/last every N epochs (also after the final epoch and when the run stops between epochs; "
           "a stop mid-epoch resumes from the last one written, bit-exact); best is written on every improvement"),
  };
}

std::vector<KeySpec> memory_and_monitor_keys() {
  return {
      bind("memory.max_validation_outputs", SAFETRAIN_FIELD(memory.max_validation_outputs), R::between(0, 1e9),
           "validation samples kept for plots (reservoir)"),
      bind("memory.max_test_outputs", SAFETRAIN_FIELD(memory.max_test_outputs), R::between(0, 1e9),
           "test samples kept for plots and predictions"),
      bind("memory.empty_cache_every_n_batches", SAFETRAIN_FIELD(memory.empty_cache_every_n_batches),
           R::between(0, 1e9), "release cached memory every N batches; 0 = only at epoch end"),
      bind("memory.min_free_mb", SAFETRAIN_FIELD(memory.min_free_mb), R::between(0.0, kHuge),
           "memory that must stay free after the model is built"),
      bind("memory.device_budget_mb", SAFETRAIN_FIELD(memory.device_budget_mb), R::between(0.0, kHuge),
           "CUDA: cap on what the caching allocator may take; 0 = none"),
      bind("monitor.enabled", SAFETRAIN_FIELD(monitor.enabled), R::any(), "run the memory monitor thread"),
      bind("monitor.interval_ms", SAFETRAIN_FIELD(monitor.interval_ms), R::between(10, 600000), "sampling interval"),
      bind("monitor.ring_capacity", SAFETRAIN_FIELD(monitor.ring_capacity), R::between(16, 1e7),
           "samples kept in memory (memory.csv has them all)"),
      bind("monitor.warmup_epochs", SAFETRAIN_FIELD(monitor.warmup_epochs), R::between(0, 1e6),
           "epochs ignored by the leak detector"),
      bind("monitor.window_epochs", SAFETRAIN_FIELD(monitor.window_epochs), R::between(3, 1e6),
           "epochs in the leak detector's sliding window"),
      bind("monitor.leak_mb_per_epoch", SAFETRAIN_FIELD(monitor.leak_mb_per_epoch), R::between(0.0, kHuge),
           "growth of anonymous RSS per epoch that counts as a leak"),
      bind("monitor.warn_rss_mb", SAFETRAIN_FIELD(monitor.warn_rss_mb), R::between(0.0, kHuge),
           "anonymous RSS (RssAnon: mapped files excluded) that triggers a warning and a trim; 0 = off"),
      bind("monitor.critical_rss_mb", SAFETRAIN_FIELD(monitor.critical_rss_mb), R::between(0.0, kHuge),
           "anonymous RSS that stops the run cleanly; 0 = off"),
      bind("monitor.warn_device_mb", SAFETRAIN_FIELD(monitor.warn_device_mb), R::between(0.0, kHuge),
           "device memory warning; 0 = off"),
      bind("monitor.critical_device_mb", SAFETRAIN_FIELD(monitor.critical_device_mb), R::between(0.0, kHuge),
           "device memory that stops the run; 0 = off"),
      bind("monitor.min_available_mb", SAFETRAIN_FIELD(monitor.min_available_mb), R::between(0.0, kHuge),
           "system MemAvailable floor that stops the run; 0 = off"),
  };
}

// The pruner keeps this setting as text (its library parses it); the schema still offers only these names.
KeySpec nan_policy_key() {
  KeySpec spec = bind("descriptors.nan_policy", SAFETRAIN_FIELD(descriptors.nan_policy), R::any(),
                      "missing cells in Spearman: each pair over its complete rows, the mean rank, or drop the rows");
  spec.kind = KeyKind::kEnum;
  spec.choices = {"pairwise", "fill_mean", "drop_rows"};
  return spec;
}

std::vector<KeySpec> descriptor_keys() {
  return {
      bind("descriptors.enabled", SAFETRAIN_FIELD(descriptors.enabled), R::any(),
           "prune feature columns before training (training split only)"),
      bind("descriptors.batch_rows", SAFETRAIN_FIELD(descriptors.batch_rows), R::between(16, 1e9),
           "rows per batch while streaming"),
      bind("descriptors.max_missing_fraction", SAFETRAIN_FIELD(descriptors.max_missing_fraction), R::between(0.0, 1.0),
           "drop columns missing more often"),
      bind("descriptors.min_variance", SAFETRAIN_FIELD(descriptors.min_variance), R::between(0.0, kHuge),
           "drop columns with smaller variance"),
      bind("descriptors.spearman", SAFETRAIN_FIELD(descriptors.spearman), R::any(), "pass 2: Spearman + Leiden"),
      bind("descriptors.spearman_threshold", SAFETRAIN_FIELD(descriptors.spearman_threshold),
           R::above_up_to(0.0, 1.0), "edge where |rho| >= this"),
      bind("descriptors.leiden_resolution", SAFETRAIN_FIELD(descriptors.leiden_resolution), R::above(0.0),
           "Leiden resolution"),
      bind("descriptors.hsic", SAFETRAIN_FIELD(descriptors.hsic), R::any(), "pass 3: HSIC"),
      bind("descriptors.hsic_threshold", SAFETRAIN_FIELD(descriptors.hsic_threshold), R::above_up_to(0.0, 1.0),
           "normalised HSIC at or above which a pair is a candidate: the column is dropped only when the kept "
           "partner also predicts it (binned mapping explains >= 0.9 of its variance, adjusted, on the sample "
           "and on independent rows)"),
      bind("descriptors.hsic_sample_rows", SAFETRAIN_FIELD(descriptors.hsic_sample_rows), R::between(10, 20000),
           "rows sampled for HSIC and RDC, and as many other rows for the predictability check "
           "(memory: rows^2 x 4 bytes per column)"),
      bind("descriptors.rdc", SAFETRAIN_FIELD(descriptors.rdc), R::any(), "pass 4: RDC"),
      bind("descriptors.rdc_threshold", SAFETRAIN_FIELD(descriptors.rdc_threshold), R::above_up_to(0.0, 1.0),
           "RDC at or above which a pair is a candidate: dropped only when the kept partner also predicts the "
           "column, as for HSIC"),
      bind("descriptors.rdc_k", SAFETRAIN_FIELD(descriptors.rdc_k), R::between(1, 1000), "random projections per column"),
      bind("descriptors.rdc_s", SAFETRAIN_FIELD(descriptors.rdc_s), R::above(0.0), "projection scale"),
      nan_policy_key(),
      bind("descriptors.max_working_mb", SAFETRAIN_FIELD(descriptors.max_working_mb), R::between(1, 1e9),
           "MiB bound on each pass's scratch memory (rank buffers, products, feature blocks); report.json has each "
           "pass's largest counted working set"),
      bind("descriptors.keep", SAFETRAIN_FIELD(descriptors.keep), R::any(), "columns never pruned"),
      bind("descriptors.prefer_gpu", SAFETRAIN_FIELD(descriptors.prefer_gpu), R::any(),
           "run the matrix work on CUDA when available"),
  };
}

std::vector<KeySpec> importance_keys() {
  return {
      bind("importance.enabled", SAFETRAIN_FIELD(importance.enabled), R::any(),
           "permutation importance of the final model on the validation split (importance.csv, plots/importance.png)"),
      bind("importance.max_rows", SAFETRAIN_FIELD(importance.max_rows), R::between(1, 1e8),
           "validation rows sampled for it (seeded; all rows when the split is smaller)"),
      bind("importance.repeats", SAFETRAIN_FIELD(importance.repeats), R::between(1, 1000),
           "shuffles per feature (the csv gives their mean and std)"),
      bind("importance.batch_rows", SAFETRAIN_FIELD(importance.batch_rows), R::between(1, 1e7),
           "rows per forward pass while scoring (memory: the sample plus one batch)"),
  };
}

std::vector<KeySpec> logging_and_debug_keys() {
  KeySpec leak = bind("debug.plant_leak_mb_per_epoch", SAFETRAIN_FIELD(debug.plant_leak_mb_per_epoch),
                      R::between(0.0, 1e6), "test hook: keep this many MB per validation epoch (proves the leak detector)");
  leak.hidden = true;
  KeySpec sigint_batch = bind("debug.sigint_at_batch", SAFETRAIN_FIELD(debug.sigint_at_batch), R::between(0, 1e12),
                              "test hook: raise SIGINT after this training batch of the run");
  sigint_batch.hidden = true;
  KeySpec sigint_test = bind("debug.sigint_at_test", SAFETRAIN_FIELD(debug.sigint_at_test), R::any(),
                             "test hook: raise SIGINT when the final test starts");
  sigint_test.hidden = true;
  KeySpec sigint_validation = bind("debug.sigint_at_validation", SAFETRAIN_FIELD(debug.sigint_at_validation),
                                   R::between(0, 1e9), "test hook: raise SIGINT as this epoch's validation starts");
  sigint_validation.hidden = true;
  KeySpec sigterm_batch = bind("debug.sigterm_at_batch", SAFETRAIN_FIELD(debug.sigterm_at_batch), R::between(0, 1e12),
                               "test hook: raise SIGTERM after this training batch of the run");
  sigterm_batch.hidden = true;
  KeySpec signal_rank = bind("debug.signal_rank", SAFETRAIN_FIELD(debug.signal_rank), R::between(-1, 1e6),
                             "test hook: only this rank raises the debug signals (-1 = every rank)");
  signal_rank.hidden = true;
  KeySpec inject_oom = bind("debug.inject_oom_at_step", SAFETRAIN_FIELD(debug.inject_oom_at_step), R::between(0, 1e12),
                            "test hook: an out-of-memory error in this optimizer step of the run");
  inject_oom.hidden = true;
  KeySpec inject_eval_oom = bind("debug.inject_eval_oom", SAFETRAIN_FIELD(debug.inject_eval_oom), R::any(),
                                 "test hook: an out-of-memory error in the run's first validation forward");
  inject_eval_oom.hidden = true;
  return {
      bind("logging.progress", SAFETRAIN_FIELD(logging.progress), R::any(),
           "auto: an updating line on a terminal, plain lines otherwise"),
      bind("logging.log_every_n_steps", SAFETRAIN_FIELD(logging.log_every_n_steps), R::between(1, 1e9),
           "plain progress line every N steps"),
      bind("logging.tensorboard", SAFETRAIN_FIELD(logging.tensorboard), R::any(),
           "write the epoch figures (metrics.csv's, as scalars) to RUN_DIR/tensorboard for `tensorboard --logdir`"),
      bind("logging.tensorboard_step_loss", SAFETRAIN_FIELD(logging.tensorboard_step_loss), R::any(),
           "with logging.tensorboard: also each optimizer step's training loss (RUN_DIR/tensorboard/steps)"),
      leak,
      sigint_batch,
      sigint_test,
      sigint_validation,
      sigterm_batch,
      signal_rank,
      inject_oom,
      inject_eval_oom,
  };
}

std::vector<KeySpec> build_schema() {
  std::vector<KeySpec> schema;
  for (auto part : {top_and_data_keys(), model_keys(), training_keys(), memory_and_monitor_keys(), descriptor_keys(),
                    importance_keys(), logging_and_debug_keys()}) {
    for (auto& spec : part) schema.push_back(std::move(spec));
  }
  return schema;
}

}  // namespace

const std::vector<KeySpec>& config_schema() {
  static const std::vector<KeySpec> schema = build_schema();
  return schema;
}

}  // namespace safetrain::config
