// check_system: what this machine has, and a safe config for it.
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <algorithm>
#include <cstdio>
#include <optional>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/config/derived.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/memory_estimate.hpp"
#include "safetrain/models/parameter_count.hpp"
#include "safetrain/models/parse_setting.hpp"
#include "safetrain/monitor/device_description.hpp"
#include "safetrain/monitor/system_info.hpp"
#include "safetrain/config/config.hpp"
#include "safetrain/config/loader.hpp"
#include "safetrain/common/units.hpp"

using namespace safetrain;

namespace {


// Where a recommendation is sized for: the CPU, a discrete GPU, or an integrated GPU whose
// memory is the host's (Jetson-class boards), where loader batches and the CUDA context come out
// of the same MemAvailable as the model.
struct Target {
  std::string name;
  int64_t free_bytes = 0;
  bool gpu = false, shares_host_memory = false;
};

// An epoch should take at least this many optimizer steps: a batch as large as the table would
// give one noisy step per epoch and make early stopping meaningless.
constexpr int64_t kMinStepsPerEpoch = 8;

// Data rows of the config's table: --rows, else the synthetic size, else the table source's count (Parquet's
// metadata) or bound (a CSV's data lines: the reader's own first pass, a byte scan, no parsing).
int64_t table_rows(const config::Config& config, int64_t rows_flag) {
  if (rows_flag > 0) return rows_flag;
  if (config.data.source == data::DataSource::synthetic) return config.data.synthetic.rows;
  const auto source = data::open_table_source(config.data.path, config.data.read, config::csv_roles(config));
  return source->row_count().value_or(source->row_upper_bound());
}

void recommend(const Target& target, const models::ModelSpec& spec, const config::Config& config, int cores,
               int64_t train_rows) {
  const models::Precision precision = target.gpu ? models::Precision::fp16 : models::Precision::fp32;
  const int64_t reserve = static_cast<int64_t>(config.memory.min_free_mb * 1048576.0);
  const int64_t usable = std::max<int64_t>(0, target.free_bytes - reserve);
  const int64_t largest = models::largest_batch_that_fits(spec, config.training.optimizer, precision, usable);
  std::printf("\nrecommended for %s (%.0f MB %s, keeping memory.min_free_mb %.0f MB):\n", target.name.c_str(),
              bytes_to_mb(target.free_bytes), target.shares_host_memory ? "MemAvailable, shared by CPU and GPU" : "free",
              config.memory.min_free_mb);
  if (largest < 1) {
    std::printf("  this model does not fit: lower model.d_model / model.num_layers, or free memory\n");
    return;
  }
  // Stay well under the largest batch that fits: activations vary with the data, the estimate is an estimate.
  const int64_t by_memory = std::max<int64_t>(1, std::min<int64_t>(largest / 2, target.gpu ? 64 : 256));
  const int64_t by_data = std::max<int64_t>(1, train_rows / kMinStepsPerEpoch);
  const int64_t batch = std::min(by_memory, by_data);
  const int64_t accumulate = std::max<int64_t>(1, std::min<int64_t>(16 / batch, by_data / batch));
  const auto estimate = models::estimate_memory(spec, batch, config.training.optimizer, precision, true);
  std::printf("  training.batch_size: %lld   # largest that fits: %lld%s\n", static_cast<long long>(batch),
              static_cast<long long>(largest),
              batch < by_memory ? ("; capped by the data: " + std::to_string(train_rows) + " training rows, >= " +
                                   std::to_string(kMinStepsPerEpoch) + " steps per epoch")
                                      .c_str()
                                : "");
  std::printf("  training.accumulate_grad_batches: %lld   # effective batch %lld\n",
              static_cast<long long>(accumulate), static_cast<long long>(batch * accumulate));
  std::printf("  training.precision: \"%s\"%s\n", name_of(precision),
              target.gpu ? "   # fp16 autocast + loss scaling" : "   # fp16 does not help on a CPU");
  if (target.shares_host_memory) {
    std::printf("  data.num_workers: 0   # prefetched batches would take from the GPU's memory too\n");
    std::printf("  memory.device_budget_mb: 0   # the cap is MemAvailable itself (monitor.min_available_mb guards it)\n");
  } else {
    std::printf("  data.num_workers: %d\n", std::min(2, std::max(0, cores - 1)));
  }
  std::printf("  estimate at that batch: %s\n", estimate.summary().c_str());
}

// The integrated GPU to size for: --integrated-available-mb fakes one (to plan for a board from
// another machine), else CUDA device 0 when it reports cudaDevAttrIntegrated.
std::optional<Target> integrated_target(double assumed_available_mb) {
  monitor::DeviceDescription device = monitor::describe_cuda_device(0);
  monitor::HostMemory host = monitor::read_host_memory();
  if (assumed_available_mb > 0) {
    const auto bytes = static_cast<int64_t>(assumed_available_mb * 1048576.0);
    device = {true, true, -1, -1, "a shared-memory board (--integrated-available-mb)"};
    host = {bytes, -1};
  }
  if (!device.integrated) return std::nullopt;
  std::printf("\n%s\n", monitor::shared_memory_note(device).c_str());
  const auto budget = monitor::device_memory_budget(device, host);
  return Target{device.name, budget.free_bytes, true, budget.shared_with_host};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"safetrain check_system: CPU, RAM, LibTorch build, GPUs (through NVML when a driver is present),\n"
               "the BLAS in use, and a recommended safe config for the model of --config on this machine."};
  std::string config_path;  // empty: the built-in defaults (a relative default path failed outside the repository)
  int64_t features = 64;
  app.add_option("-c,--config", config_path, "config whose model to size (default: the built-in defaults)");
  app.add_option("--features", features, "input feature count to size the model for")->capture_default_str();
  int64_t rows = 0;
  app.add_option("--rows", rows, "data rows to size the batch for (default: the config's table)")
      ->check(CLI::PositiveNumber);
  double integrated_available_mb = 0;
  app.add_option("--integrated-available-mb", integrated_available_mb,
                 "also size for an integrated GPU (Jetson-class board) whose shared memory has this much "
                 "MemAvailable, e.g. 3000 for a headless 4 GB board")
      ->check(CLI::NonNegativeNumber);
  SAFETRAIN_PARSE(app, argc, argv);
  return guarded_main("check_system", [&] {
    const auto info = monitor::probe_system();
    std::printf("CPU:      %s, %d logical cores\n", info.cpu_model.c_str(), info.logical_cores);
    std::printf("RAM:      %.0f MB total, %.0f MB available\n", bytes_to_mb(info.ram_total_bytes), bytes_to_mb(info.ram_available_bytes));
    std::printf("Limits:   %s\n", info.limits.summary().c_str());
    std::printf("LibTorch: %s\n", monitor::libtorch_summary(info).c_str());
    std::printf("BLAS:     %s\n", info.blas.c_str());
    std::printf("GPUs:     %s\n", info.gpus.empty() ? ("none (" + info.nvml_status + ")").c_str() : "");
    for (const auto& gpu : info.gpus) {
      std::printf("  %s: %.0f MB total, %.0f MB free\n", gpu.name.c_str(), bytes_to_mb(gpu.total_bytes), bytes_to_mb(gpu.free_bytes));
    }
    const auto resolved = config_path.empty() ? config::resolve_from_text("{}", "built-in defaults")
                                              : config::load_config(config_path);
    if (config_path.empty()) config_path = "the built-in defaults";
    const auto config = config::make_config(resolved.tree, config_path);
    std::vector<std::string> targets = config.data.targets.names;
    if (targets.empty()) targets = {"target"};
    const auto spec = infer::model_spec_from(config, features, targets);
    std::printf("\nmodel of %s: %s, %lld parameters (sized for %lld input features)\n", config_path.c_str(),
                name_of(config.model.type), static_cast<long long>(models::expected_parameter_count(spec)),
                static_cast<long long>(features));
    const auto train_rows =
        static_cast<int64_t>(static_cast<double>(table_rows(config, rows)) * config.data.split.train_fraction);
    std::printf("data:     %lld training rows (data.train_fraction %.2f)\n", static_cast<long long>(train_rows),
                config.data.split.train_fraction);
    const int cores = info.logical_cores;
    recommend({"the CPU", info.usable_memory_bytes(), false, false}, spec, config, cores, train_rows);
    for (const auto& gpu : info.gpus) recommend({gpu.name, gpu.free_bytes, true, false}, spec, config, cores, train_rows);
    const auto integrated = integrated_target(integrated_available_mb);
    if (integrated) recommend(*integrated, spec, config, cores, train_rows);
    if (info.gpus.empty() && !integrated) {
      std::printf("\nno GPU found: train configs/quickstart.yaml here, or the GTX 1650 profile on a GPU machine\n");
    }
    return 0;
  });
}
