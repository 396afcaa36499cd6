#pragma once
// Where this process sits in a data-parallel job, read from the environment the launchers set:
// torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) or SLURM's srun
// (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the master is MASTER_ADDR or the first host of
// SLURM_JOB_NODELIST). LibTorch-free, so the parsing is unit-tested on its own.
#include <functional>
#include <optional>
#include <string>

namespace safetrain::dist {

inline constexpr int kDefaultMasterPort = 29500;  // torchrun's default

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = kDefaultMasterPort;
  std::string launcher = "none";  // "torchrun" (or a plain shell loop setting the same names), "slurm", "none"
  bool agent_store = false;  // torchrun's agent already hosts the TCPStore (TORCHELASTIC_USE_AGENT_STORE=True)
  bool distributed() const { return world_size > 1; }
};

// Returns the value of an environment variable, or nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_environment();

// WORLD_SIZE wins over SLURM_*; neither gives a 1-rank LaunchEnv. A malformed or inconsistent value
// (RANK >= WORLD_SIZE, a port outside 1..65535) is an InputError naming the variable.
LaunchEnv read_launch_env(const EnvLookup& env);

// The first host of a SLURM node list: "gpu[07-09,12],cpu3" -> "gpu07", "node1,node2" -> "node1",
// "rack[1-2]-n[3-4]" -> "rack1-n3". InputError on an empty or unbalanced list.
std::string first_slurm_host(const std::string& nodelist);

}  // namespace safetrain::dist
