// metrics.csv, one flushed row per epoch (like Lightning's CSVLogger); on resume it keeps the rows of the
// epochs the checkpoint holds.
#include "safetrain/train/callbacks.hpp"

namespace safetrain::train {

void MetricsCsvCallback::on_fit_start(FitContext& c) {
  const int64_t keep = c.counters.epochs_completed > 0 ? c.counters.epochs_completed : -1;
  log_ = std::make_unique<MetricsLog>(c.layout.metrics_csv(), keep, c.target_names);
}

void MetricsCsvCallback::log_metrics(FitContext&, const EpochRecord& record) { log_->append(record); }

}  // namespace safetrain::train
