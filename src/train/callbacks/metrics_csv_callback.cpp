// metrics.csv, one flushed row per epoch (like Lightning's CSVLogger); on resume it keeps the rows of the
// epochs the checkpoint holds.
#include "safetrain/monitor/process_memory.hpp"
#include "safetrain/train/callbacks.hpp"
#include "safetrain/common/units.hpp"

namespace safetrain::train {

void MetricsCsvCallback::on_fit_start(FitContext& c) {
  const int64_t keep = c.counters.epochs_completed > 0 ? c.counters.epochs_completed : -1;
  log_ = std::make_unique<MetricsLog>(c.layout.metrics_csv(), keep, c.target_names);
}

void MetricsCsvCallback::on_train_epoch_end(FitContext&, EpochRecord& record) {
  record.rss_mb = bytes_to_mb(monitor::current_rss_bytes());
  log_->append(record);
}

}  // namespace safetrain::train
