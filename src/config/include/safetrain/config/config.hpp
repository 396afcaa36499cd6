#pragma once
// The typed view of a resolved config: each section is the options struct of
// the library that uses it, so a default lives in exactly one place (that
// struct's member initialiser). The schema (schema.hpp) binds every dotted key
// to a member; `make_config` fills them from the validated tree.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

#include "safetrain/data/data_options.hpp"
#include "safetrain/data/descriptors/options.hpp"
#include "safetrain/eval/importance_options.hpp"
#include "safetrain/models/model_options.hpp"
#include "safetrain/monitor/monitor_options.hpp"
#include "safetrain/train/training_options.hpp"

namespace safetrain::config {

struct Config {
  std::string source;  // the file (or checkpoint) it came from, for messages

  uint64_t seed = 42;
  train::OutputOptions output;
  data::DataOptions data;
  models::ModelOptions model;
  train::TrainingOptions training;
  train::MemoryOptions memory;
  monitor::MonitorOptions monitor;
  data::descriptors::DescriptorOptions descriptors;
  eval::ImportanceOptions importance;
  train::LoggingOptions logging;
  train::DebugOptions debug;
};

// Builds the typed view from a tree resolved by the loader (every key present
// and validated); then checks the rules that span keys (split fractions, a CSV
// source needs a path, ...) with an InputError naming the keys.
Config make_config(const YAML::Node& resolved_tree, const std::string& source);

// The one serialiser of a typed config, walking the schema (each key declared once there): every documented key
// with the value the run uses (read back from the typed members, so `010` prints as 10), nested by section, plus
// any test hook (hidden debug.* key) that differs from its default. It is what --print-config prints, what a run
// saves as config.yaml and in each checkpoint, and what data-parallel ranks compare, so a value changed in the
// typed config cannot go missing from what is written; `make_config` of it gives back an equal config.
YAML::Node typed_tree(const Config& config);
std::string typed_yaml(const Config& config);

}  // namespace safetrain::config
