#pragma once
// The run's memory forecast from its config (models/memory_forecast.hpp does the arithmetic): the table's
// shape known before loading (the reader's row count or bound, the numeric columns it will read), the
// model the config describes, and the settings that size buffers. The trainer checks it before loading;
// check_system prints it and sizes the batch by it.
#include <string>

#include "safetrain/config/config.hpp"
#include "safetrain/models/memory_forecast.hpp"

namespace safetrain::infer {

// Rows (a CSV's line count: an upper bound) and numeric feature/target columns, read from the header or
// metadata only; the synthetic arm's from its options.
models::TableShape table_shape(const config::Config& config);

// The model the config describes for that table: every feature column (the pruner may keep fewer),
// rounded up to whole patches for a patch-token transformer.
models::ModelSpec forecast_model_spec(const config::Config& config, const models::TableShape& table);

models::ForecastSettings forecast_settings(const config::Config& config, const models::TableShape& table, bool on_cuda);

models::MemoryForecast forecast_for(const config::Config& config, const models::TableShape& table, bool on_cuda);

// ResourceError (exit 3) naming the phase, the figures and the keys to change when the forecast's host
// peak exceeds what the host has free (MemAvailable, a cgroup, RLIMIT_AS; less memory.min_free_mb), or
// its device peak the device's free memory (capped by memory.device_budget_mb). monitor.critical_rss_mb
// stays the monitor's: it acts on what the run measures.
void check_forecast_fits(const models::MemoryForecast& forecast, const config::Config& config,
                         const std::string& device);

}  // namespace safetrain::infer
