#include "safetrain/infer/memory_plan.hpp"

#include <algorithm>
#include <sstream>

#include "safetrain/common/error.hpp"
#include "safetrain/config/derived.hpp"
#include "safetrain/data/synthetic_arm.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/memory_budget.hpp"

namespace safetrain::infer {
namespace {

constexpr double kBytesPerMb = 1024.0 * 1024.0;

models::TableShape shape_of(const config::Config& c, const std::vector<std::string>& columns, int64_t rows) {
  models::TableShape shape;
  shape.rows = rows;
  for (const auto& column : columns) ++(config::is_target_column(c.data.targets, column) ? shape.targets : shape.features);
  if (!c.data.features.empty()) shape.features = static_cast<int64_t>(c.data.features.size());
  return shape;
}

// The advice that goes with a refusal: what lowers the phase that does not fit.
std::string keys_for(const std::string& phase) {
  if (phase == "load" || phase == "descriptors") {
    return "data.storage: mmap (the table stays in file pages), fewer columns (data.features, data.ignore_columns), "
           "or, for Parquet with data.storage: mmap, smaller row groups (pyarrow: row_group_size=65536)";
  }
  return "training.batch_size (check_system --config names the largest that fits), training.precision 16, a smaller "
         "model (model.hidden, model.mlp_layers, model.d_model, model.num_layers), or data.storage: mmap";
}

struct Room {
  int64_t free_bytes = 0, reserve_bytes = 0;
  std::string where, reserve_key;  // e.g. "the host (/proc/meminfo MemAvailable)", "memory.min_free_mb"
};

[[noreturn]] void refuse(const models::PhaseForecast& phase, int64_t need, const Room& room) {
  std::ostringstream m;
  m << "memory forecast: the " << phase.phase << " phase needs ~" << models::format_mb(need) << " (" << phase.held
    << "); " << room.where << " has " << models::format_mb(room.free_bytes) << " free";
  if (room.reserve_bytes > 0) m << " and " << room.reserve_key << " keeps " << models::format_mb(room.reserve_bytes) << " of it";
  m << "; lower " << keys_for(phase.phase);
  throw ResourceError(m.str());
}

// The pruner's scratch (measured on the quickstart table): one double copy of the training columns for the
// rank and statistics passes, bounded by descriptors.max_working_mb, two sample x sample Gram matrices for
// HSIC, and its batch buffers.
int64_t pruner_scratch(const config::Config& c, const models::TableShape& table) {
  const auto train_rows = static_cast<double>(table.rows) * c.data.split.train_fraction;
  const auto columns = static_cast<double>(table.features + table.targets);
  const double ranks = std::min(train_rows * columns * 8.0, static_cast<double>(c.descriptors.max_working_mb) * kBytesPerMb);
  const auto sample = static_cast<double>(c.descriptors.hsic_sample_rows);
  return static_cast<int64_t>(ranks + 2.0 * sample * sample * 4.0 + 8.0 * kBytesPerMb);
}

}  // namespace

models::TableShape table_shape(const config::Config& c) {
  if (c.data.source == data::DataSource::synthetic) {
    auto options = c.data.synthetic;
    options.rows = 2;  // the generator's columns, without generating the table
    return shape_of(c, data::make_synthetic_arm(options).columns, c.data.synthetic.rows);
  }
  const auto source = data::open_table_source(c.data.path, c.data.read, config::csv_roles(c));
  // A target the header lacks is refused here, from the header, not after the count and the load.
  config::target_names(c.data.targets, source->columns(), c.data.path);
  auto shape = shape_of(c, source->columns(), source->row_count().value_or(source->row_upper_bound()));
  shape.row_group_bytes = source->row_group_bytes();
  return shape;
}

models::ForecastSettings forecast_settings(const config::Config& c, const models::TableShape& table, bool on_cuda) {
  models::ForecastSettings s;
  s.batch_size = c.training.batch_size;
  s.optimizer = c.training.optimizer;
  s.precision = on_cuda ? c.training.precision : models::Precision::fp32;  // fp16 falls back to fp32 on a CPU
  s.on_cuda = on_cuda;
  s.mapped = c.data.storage == data::Storage::mmap;
  if (s.mapped) s.staged_row_group = table.row_group_bytes;  // the conversion reads rows in parts
  if (c.descriptors.enabled && c.data.features.empty()) s.pruner_scratch = pruner_scratch(c, table);
  if (c.data.source == data::DataSource::synthetic) {
    // The generator's intermediate tensors (joint angles, poses, noise): about four tables' worth beyond the
    // reader's fixed part, measured on 1,500 and 30,000 rows.
    s.reader_bytes += 4 * table.rows * (table.features + table.targets) * 4;
  }
  s.importance = c.importance.enabled;
  s.importance_rows = std::min(c.importance.max_rows, c.importance.batch_rows);
  const auto& w = c.data.workers;
  s.loader_batches = std::min(w.num_workers, w.max_workers) + w.prefetch_batches;
  s.kept_outputs = std::max(c.memory.max_validation_outputs, c.memory.max_test_outputs);
  s.train_fraction = c.data.split.train_fraction;
  return s;
}

models::ModelSpec forecast_model_spec(const config::Config& c, const models::TableShape& table) {
  std::vector<std::string> targets(static_cast<size_t>(std::max<int64_t>(1, table.targets)), "target");
  // The pruner may keep fewer columns: size for all of them, rounded up to whole patches.
  int64_t features = std::max<int64_t>(1, table.features);
  if (c.model.type == models::ModelFamily::transformer && c.model.token_type == models::TokenType::patch &&
      c.model.patch_size > 0) {
    features = (features + c.model.patch_size - 1) / c.model.patch_size * c.model.patch_size;
  }
  return model_spec_from(c, features, targets);
}

models::MemoryForecast forecast_for(const config::Config& c, const models::TableShape& table, bool on_cuda) {
  return models::forecast_memory(forecast_model_spec(c, table), table, forecast_settings(c, table, on_cuda));
}

void check_forecast_fits(const models::MemoryForecast& forecast, const config::Config& c, const std::string& device) {
  // The first phase, in run order, that does not fit: where the run would fail.
  const auto reserve = static_cast<int64_t>(c.memory.min_free_mb * kBytesPerMb);
  const auto host_budget = models::current_budget("cpu");
  for (const auto& phase : forecast.phases) {
    if (phase.host_bytes > host_budget.free_bytes - reserve) {
      refuse(phase, phase.host_bytes, {host_budget.free_bytes, reserve, "the host (" + host_budget.source + ")",
                                       "memory.min_free_mb"});
    }
  }
  if (device == "cpu") return;
  const auto budget = models::capped_by_device_budget(models::current_budget(device), c.memory.device_budget_mb);
  for (const auto& phase : forecast.phases) {
    if (phase.device_bytes > budget.free_bytes - reserve) {
      refuse(phase, phase.device_bytes,
             {budget.free_bytes, reserve, device + " (" + budget.source + ", memory.device_budget_mb)", "memory.min_free_mb"});
    }
  }
}

}  // namespace safetrain::infer
