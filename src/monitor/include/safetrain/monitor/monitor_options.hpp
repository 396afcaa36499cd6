#pragma once
// The `monitor.*` settings and their defaults, declared once (the config
// schema binds each key to a member). LibTorch-free.
#include <cstdint>
#include <filesystem>

namespace safetrain::monitor {

struct MonitorOptions {
  bool enabled = true;  // the trainer starts no monitor thread when false
  int64_t interval_ms = 200;
  int64_t ring_capacity = 1024;
  int64_t warmup_epochs = 2, window_epochs = 10;
  double leak_mb_per_epoch = 1.0;
  double warn_rss_mb = 0, critical_rss_mb = 0, warn_device_mb = 0, critical_device_mb = 0;
  double min_available_mb = 256;
  std::filesystem::path csv_path;  // not a key: RUN_DIR/memory.csv; empty = no CSV
};

}  // namespace safetrain::monitor
