#include "checkpoints.hpp"

#include <fstream>

#include "safetrain/common/atomic_file.hpp"
#include "safetrain/common/log.hpp"

namespace fs = std::filesystem;

namespace safetrain::data::descriptors {
namespace {
fs::path checkpoint_path(const fs::path& dir, int pass) { return dir / ("pass_" + std::to_string(pass) + ".json"); }
}  // namespace

std::optional<PassCheckpoint> read_pass_checkpoint(const fs::path& dir, int pass, const std::string& key) {
  if (dir.empty()) return std::nullopt;
  const auto path = checkpoint_path(dir, pass);
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    log::warn("descriptors: ignoring unreadable checkpoint ", path.string());
    return std::nullopt;
  }
  if (j.value("key", "") != key) return std::nullopt;  // another input or other settings
  try {
    PassCheckpoint c;
    c.pass = pass;
    c.kept = j.at("kept").get<std::vector<std::string>>();
    for (const auto& d : j.at("dropped")) {
      c.dropped.push_back({d.at(0).get<std::string>(), false, pass, d.at(1).get<std::string>(),
                           d.at(2).get<std::string>(), ""});
    }
    for (const auto& a : j.at("clusters")) {
      c.clusters.push_back({a.at(0).get<std::string>(), a.at(1).get<int64_t>(), a.at(2).get<std::string>()});
    }
    c.reports = j.at("reports");
    return c;
  } catch (const nlohmann::json::exception& e) {
    log::warn("descriptors: ignoring malformed checkpoint ", path.string(), ": ", e.what());
    return std::nullopt;
  }
}

void write_pass_checkpoint(const fs::path& dir, const std::string& key, const PassCheckpoint& c) {
  if (dir.empty()) return;
  fs::create_directories(dir);
  nlohmann::json dropped = nlohmann::json::array(), clusters = nlohmann::json::array();
  for (const auto& d : c.dropped) dropped.push_back({d.column, d.reason, d.partner});
  for (const auto& a : c.clusters) clusters.push_back({a.column, a.community, a.representative});
  const nlohmann::json j{{"key", key},           {"pass", c.pass},         {"kept", c.kept},
                         {"dropped", dropped},   {"clusters", clusters},   {"reports", c.reports}};
  write_file_atomically(checkpoint_path(dir, c.pass), j.dump() + "\n");
}

}  // namespace safetrain::data::descriptors
