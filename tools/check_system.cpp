// check_system: what this machine has, and a safe config for it.
#include <CLI/CLI.hpp>

#include "safetrain/common/cli.hpp"
#include <algorithm>
#include <cstdio>
#include <optional>

#include "safetrain/common/guarded_main.hpp"
#include "safetrain/config/derived.hpp"
#include "safetrain/data/table_source.hpp"
#include "safetrain/infer/memory_plan.hpp"
#include "safetrain/infer/model_from_config.hpp"
#include "safetrain/models/memory_estimate.hpp"
#include "safetrain/models/parameter_count.hpp"
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
  bool is_budget = false;  // a cap the user named (--budget-mb): memory.min_free_mb is not taken from it
};

// An epoch should take at least this many optimizer steps: a batch as large as the table would
// give one noisy step per epoch and make early stopping meaningless.
constexpr int64_t kMinStepsPerEpoch = 8;

// The config's table as the forecast sees it: rows from --rows, else the synthetic size, else the table
// source's count (Parquet's metadata) or bound (a CSV's data lines: a byte scan, no parsing); columns from
// its header, or --features when the table has none to read.
models::TableShape table_of(const config::Config& config, int64_t rows_flag, int64_t features_flag) {
  auto shape = infer::table_shape(config);
  if (rows_flag > 0) shape.rows = rows_flag;
  if (shape.features == 0) shape.features = features_flag;
  shape.targets = std::max<int64_t>(1, shape.targets);
  return shape;
}

void recommend(const Target& target, const models::ModelSpec& spec, const config::Config& config, int cores,
               const models::TableShape& table) {
  auto settings = infer::forecast_settings(config, table, target.gpu);
  settings.precision = target.gpu ? models::Precision::fp16 : models::Precision::fp32;
  const double reserve_mb = target.is_budget ? 0.0 : config.memory.min_free_mb;
  const int64_t usable = std::max<int64_t>(0, target.free_bytes - static_cast<int64_t>(reserve_mb * 1048576.0));
  const int64_t largest = models::largest_batch_within(spec, table, settings, usable);
  std::printf("\nrecommended for %s (%.0f MB %s, keeping memory.min_free_mb %.0f MB):\n", target.name.c_str(),
              bytes_to_mb(target.free_bytes), target.shares_host_memory ? "MemAvailable, shared by CPU and GPU" : "free",
              reserve_mb);
  if (largest < 1) {
    std::printf("  this run does not fit: lower model.d_model / model.num_layers, use data.storage: mmap, or free memory\n");
    return;
  }
  // Stay well under the largest batch that fits: activations vary with the data, a forecast is a forecast.
  const int64_t train_rows = static_cast<int64_t>(static_cast<double>(table.rows) * config.data.split.train_fraction);
  const int64_t by_memory = std::max<int64_t>(1, std::min<int64_t>(largest / 2, target.gpu ? 64 : 256));
  const int64_t by_data = std::max<int64_t>(1, train_rows / kMinStepsPerEpoch);
  const int64_t batch = std::min(by_memory, by_data);
  const int64_t accumulate = std::max<int64_t>(1, std::min<int64_t>(16 / batch, by_data / batch));
  std::printf("  training.batch_size: %lld   # largest whose forecast fits: %lld%s\n", static_cast<long long>(batch),
              static_cast<long long>(largest),
              batch < by_memory ? ("; capped by the data: " + std::to_string(train_rows) + " training rows, >= " +
                                   std::to_string(kMinStepsPerEpoch) + " steps per epoch")
                                      .c_str()
                                : "");
  std::printf("  training.accumulate_grad_batches: %lld   # effective batch %lld\n",
              static_cast<long long>(accumulate), static_cast<long long>(batch * accumulate));
  std::printf("  training.precision: \"%s\"%s\n", name_of(settings.precision),
              target.gpu ? "   # fp16 autocast + loss scaling" : "   # fp16 does not help on a CPU");
  if (target.shares_host_memory) {
    std::printf("  data.num_workers: 0   # prefetched batches would take from the GPU's memory too\n");
    std::printf("  memory.device_budget_mb: 0   # the cap is MemAvailable itself (monitor.min_available_mb guards it)\n");
  } else {
    std::printf("  data.num_workers: %d\n", std::min(2, std::max(0, cores - 1)));
  }
  settings.batch_size = batch;
  std::printf("  memory forecast at that batch, per phase (host above the runtime%s):\n", target.gpu ? "; device" : "");
  for (const auto& line : models::forecast_memory(spec, table, settings).lines()) std::printf("    %s\n", line.c_str());
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

void print_system(const monitor::SystemInfo& info) {
  std::printf("CPU:      %s, %d logical cores\n", info.cpu_model.c_str(), info.logical_cores);
  std::printf("RAM:      %.0f MB total, %.0f MB available\n", bytes_to_mb(info.ram_total_bytes), bytes_to_mb(info.ram_available_bytes));
  std::printf("Limits:   %s\n", info.limits.summary().c_str());
  std::printf("LibTorch: %s\n", monitor::libtorch_summary(info).c_str());
  std::printf("BLAS:     %s\n", info.blas.c_str());
  std::printf("GPUs:     %s\n", info.gpus.empty() ? ("none (" + info.nvml_status + ")").c_str() : "");
  for (const auto& gpu : info.gpus) {
    std::printf("  %s: %.0f MB total, %.0f MB free\n", gpu.name.c_str(), bytes_to_mb(gpu.total_bytes), bytes_to_mb(gpu.free_bytes));
  }
}

struct CheckArguments {
  std::string config_path;  // empty: the built-in defaults (a relative default path failed outside the repository)
  int64_t features = 64;
  int64_t rows = 0;
  double budget_mb = 0;
  double integrated_available_mb = 0;
};

void add_options(CLI::App& app, CheckArguments& a) {
  app.add_option("-c,--config", a.config_path, "config whose model to size (default: the built-in defaults)");
  app.add_option("--features", a.features,
                 "input feature count to size the model for when the config's table has no columns to read")
      ->capture_default_str();
  app.add_option("--rows", a.rows, "data rows to size the batch for (default: the config's table)")
      ->check(CLI::PositiveNumber);
  app.add_option("--budget-mb", a.budget_mb,
                 "also size for a memory budget of this many MB (default: memory.device_budget_mb when set), on the "
                 "config's training.device")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--integrated-available-mb", a.integrated_available_mb,
                 "also size for an integrated GPU (Jetson-class board) whose shared memory has this much "
                 "MemAvailable, e.g. 3000 for a headless 4 GB board")
      ->check(CLI::NonNegativeNumber);
}

// A recommendation for --budget-mb (or memory.device_budget_mb), on the device the config would train on.
void recommend_for_budget(double budget_mb, const monitor::SystemInfo& info, const models::ModelSpec& spec,
                          const config::Config& config, const models::TableShape& table) {
  if (budget_mb <= 0) budget_mb = config.memory.device_budget_mb;
  if (budget_mb <= 0) return;
  const bool gpu = config.training.device == models::DeviceSetting::cuda ||
                   (config.training.device == models::DeviceSetting::automatic && !info.gpus.empty());
  recommend({"a budget of " + std::to_string(static_cast<int64_t>(budget_mb)) + " MB (" + (gpu ? "device" : "host") + ")",
             static_cast<int64_t>(budget_mb * 1048576.0), gpu, false, true},
            spec, config, info.logical_cores, table);
}

int check(CheckArguments a) {
  const auto info = monitor::probe_system();
  print_system(info);
  const auto resolved = a.config_path.empty() ? config::resolve_from_text("{}", "built-in defaults")
                                              : config::load_config(a.config_path);
  if (a.config_path.empty()) a.config_path = "the built-in defaults";
  const auto config = config::make_config(resolved.tree, a.config_path);
  const auto table = table_of(config, a.rows, a.features);
  const auto spec = infer::forecast_model_spec(config, table);
  std::printf("\nmodel of %s: %s, %lld parameters (sized for %lld input features)\n", a.config_path.c_str(),
              name_of(config.model.type), static_cast<long long>(models::expected_parameter_count(spec)),
              static_cast<long long>(spec.input_features));
  std::printf("data:     %lld rows x %lld features, %lld training rows (data.train_fraction %.2f)\n",
              static_cast<long long>(table.rows), static_cast<long long>(table.features),
              static_cast<long long>(static_cast<double>(table.rows) * config.data.split.train_fraction),
              config.data.split.train_fraction);
  const int cores = info.logical_cores;
  recommend({"the CPU", info.usable_memory_bytes(), false, false}, spec, config, cores, table);
  for (const auto& gpu : info.gpus) recommend({gpu.name, gpu.free_bytes, true, false}, spec, config, cores, table);
  const auto integrated = integrated_target(a.integrated_available_mb);
  if (integrated) recommend(*integrated, spec, config, cores, table);
  recommend_for_budget(a.budget_mb, info, spec, config, table);
  if (info.gpus.empty() && !integrated) {
    std::printf("\nno GPU found: train configs/quickstart.yaml here, or the GTX 1650 profile on a GPU machine\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"safetrain check_system: CPU, RAM, LibTorch build, GPUs (through NVML when a driver is present),\n"
               "the BLAS in use, and a recommended safe config for the model of --config on this machine."};
  CheckArguments arguments;
  add_options(app, arguments);
  SAFETRAIN_PARSE(app, argc, argv);
  return guarded_main("check_system", [&] { return check(arguments); });
}
