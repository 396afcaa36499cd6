#pragma once
// Per-pass checkpoints: a finished pass's survivors, drops, clusters and report entries, so a rerun
// with the same input and settings (the cache key) resumes after the last finished pass.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "safetrain/data/descriptors/pipeline.hpp"

namespace safetrain::data::descriptors {

struct PassCheckpoint {
  int pass = 0;
  std::vector<std::string> kept;
  std::vector<ColumnDecision> dropped;
  std::vector<ClusterAssignment> clusters;
  nlohmann::json reports = nlohmann::json::array();  // this pass's report entries (pass 1 carries pass 0's too)
};

// nullopt when there is no checkpoint for `pass`, it is unreadable, or it was written under another key.
std::optional<PassCheckpoint> read_pass_checkpoint(const std::filesystem::path& dir, int pass, const std::string& key);
void write_pass_checkpoint(const std::filesystem::path& dir, const std::string& key, const PassCheckpoint& checkpoint);

}  // namespace safetrain::data::descriptors
