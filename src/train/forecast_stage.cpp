#include "forecast_stage.hpp"

#include <map>

#include "safetrain/common/log.hpp"
#include "safetrain/common/units.hpp"
#include "safetrain/infer/memory_plan.hpp"
#include "safetrain/monitor/memory_monitor.hpp"

namespace safetrain::train {

void check_memory_forecast(const RunResources& run) {
  const auto& c = run.config;
  const auto table = infer::table_shape(c);
  const auto forecast = infer::forecast_for(c, table, run.device.is_cuda());
  const auto& host = forecast.largest_host();
  log::info("memory forecast for ", table.rows, " rows x ", table.features, " features: peak ~",
            models::format_mb(host.host_bytes), " above the runtime (", host.phase, ")",
            run.device.is_cuda() ? ", device ~" + models::format_mb(forecast.largest_device().device_bytes) : "");
  for (const auto& line : forecast.lines()) log::info("  forecast ", line);
  if (run.monitor) {
    std::map<std::string, double> host_mb;
    for (const auto& phase : forecast.phases) host_mb[phase.phase] = bytes_to_mb(phase.host_bytes);
    run.monitor->set_forecast(std::move(host_mb));
  }
  infer::check_forecast_fits(forecast, c, run.device.str());
}

}  // namespace safetrain::train
