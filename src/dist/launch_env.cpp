#include "safetrain/dist/launch_env.hpp"

#include <charconv>
#include <cstdlib>

#include "safetrain/common/error.hpp"

namespace safetrain::dist {
namespace {

int parse_int(const std::string& name, const std::string& text, int low, int high) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    throw InputError("environment: " + name + "='" + text + "' is not an integer in [" + std::to_string(low) + ", " +
                     std::to_string(high) + "]");
  }
  return value;
}

int int_or(const EnvLookup& env, const std::string& name, int fallback, int low, int high) {
  const auto text = env(name);
  return text && !text->empty() ? parse_int(name, *text, low, high) : fallback;
}

constexpr int kMaxWorld = 1 << 20;

void check_rank(const LaunchEnv& e, const char* rank_name) {
  if (e.rank >= e.world_size) {
    throw InputError(std::string("environment: ") + rank_name + "=" + std::to_string(e.rank) +
                     " is not below the world size " + std::to_string(e.world_size));
  }
}

}  // namespace

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  };
}

LaunchEnv read_launch_env(const EnvLookup& env) {
  LaunchEnv e;
  const auto master_addr = env("MASTER_ADDR");
  if (master_addr && !master_addr->empty()) e.master_addr = *master_addr;
  e.master_port = int_or(env, "MASTER_PORT", kDefaultMasterPort, 1, 65535);
  if (const auto world = env("WORLD_SIZE"); world && !world->empty()) {
    e.launcher = "torchrun";
    e.world_size = parse_int("WORLD_SIZE", *world, 1, kMaxWorld);
    e.rank = int_or(env, "RANK", 0, 0, kMaxWorld);
    e.local_rank = int_or(env, "LOCAL_RANK", 0, 0, kMaxWorld);
    e.agent_store = env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
    if (e.world_size > 1 && !env("RANK")) throw InputError("environment: WORLD_SIZE is set but RANK is not");
    check_rank(e, "RANK");
    return e;
  }
  const auto tasks = env("SLURM_NTASKS"), procid = env("SLURM_PROCID");
  if (tasks && procid && !tasks->empty() && !procid->empty()) {
    e.launcher = "slurm";
    e.world_size = parse_int("SLURM_NTASKS", *tasks, 1, kMaxWorld);
    e.rank = parse_int("SLURM_PROCID", *procid, 0, kMaxWorld);
    e.local_rank = int_or(env, "SLURM_LOCALID", 0, 0, kMaxWorld);
    check_rank(e, "SLURM_PROCID");
    if (!master_addr || master_addr->empty()) {
      auto nodes = env("SLURM_JOB_NODELIST");
      if (!nodes || nodes->empty()) nodes = env("SLURM_NODELIST");
      if (nodes && !nodes->empty()) e.master_addr = first_slurm_host(*nodes);
    }
  }
  return e;
}

std::string first_slurm_host(const std::string& nodelist) {
  std::string host;
  bool in_brackets = false, skipping = false;  // skipping: past the first element inside [...]
  for (const char c : nodelist) {
    if (!in_brackets && c == ',') break;  // a second host starts
    if (c == '[') {
      if (in_brackets) break;
      in_brackets = true;
      skipping = false;
    } else if (c == ']') {
      if (!in_brackets) throw InputError("SLURM_JOB_NODELIST: unbalanced ']' in '" + nodelist + "'");
      in_brackets = false;
    } else if (in_brackets) {
      if (c == '-' || c == ',') skipping = true;  // "07-09" or "07,12": keep the first number only
      if (!skipping) host += c;
    } else {
      host += c;
    }
  }
  if (in_brackets || host.empty()) throw InputError("SLURM_JOB_NODELIST: cannot read a host from '" + nodelist + "'");
  return host;
}

}  // namespace safetrain::dist
