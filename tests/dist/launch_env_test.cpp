// The launch environment as torchrun, a shell loop and srun set it.
#include <gtest/gtest.h>

#include <map>

#include "safetrain/common/error.hpp"
#include "safetrain/dist/launch_env.hpp"

using namespace safetrain;
using namespace safetrain::dist;

namespace {

EnvLookup env_of(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    return it == values.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

}  // namespace

TEST(LaunchEnv, NothingSetIsOneProcess) {
  const auto e = read_launch_env(env_of({}));
  EXPECT_EQ(e.world_size, 1);
  EXPECT_EQ(e.rank, 0);
  EXPECT_FALSE(e.distributed());
  EXPECT_EQ(e.launcher, "none");
}

TEST(LaunchEnv, TorchrunVariables) {
  const auto e = read_launch_env(env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                                         {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29611"}}));
  EXPECT_EQ(e.launcher, "torchrun");
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "node7");
  EXPECT_EQ(e.master_port, 29611);
  EXPECT_TRUE(e.distributed());
  EXPECT_FALSE(e.agent_store);
  EXPECT_TRUE(read_launch_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}}))
                  .agent_store);
}

TEST(LaunchEnv, TorchrunWinsOverSlurm) {
  const auto e = read_launch_env(env_of({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "5"},
                                         {"SLURM_NTASKS", "8"}}));
  EXPECT_EQ(e.launcher, "torchrun");
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.master_addr, "127.0.0.1");
  EXPECT_EQ(e.master_port, kDefaultMasterPort);
}

TEST(LaunchEnv, SlurmTakesTheFirstHostAsMaster) {
  const auto e = read_launch_env(env_of({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                                         {"SLURM_JOB_NODELIST", "gpu[07-09,12],cpu3"}}));
  EXPECT_EQ(e.launcher, "slurm");
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "gpu07");
}

TEST(LaunchEnv, SlurmKeepsAnExplicitMaster) {
  const auto e = read_launch_env(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"MASTER_ADDR", "10.0.0.9"},
                                         {"MASTER_PORT", "1234"}, {"SLURM_JOB_NODELIST", "a,b"}}));
  EXPECT_EQ(e.master_addr, "10.0.0.9");
  EXPECT_EQ(e.master_port, 1234);
}

TEST(LaunchEnv, MalformedValuesAreInputErrors) {
  EXPECT_THROW(read_launch_env(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}})), InputError);  // rank not below world
  EXPECT_THROW(read_launch_env(env_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}})), InputError);
  EXPECT_THROW(read_launch_env(env_of({{"WORLD_SIZE", "2"}})), InputError);                 // no RANK
  EXPECT_THROW(read_launch_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}})), InputError);
  EXPECT_THROW(read_launch_env(env_of({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}})), InputError);
}

TEST(SlurmNodeList, FirstHost) {
  EXPECT_EQ(first_slurm_host("node1"), "node1");
  EXPECT_EQ(first_slurm_host("node1,node2"), "node1");
  EXPECT_EQ(first_slurm_host("host[1-3,5]"), "host1");
  EXPECT_EQ(first_slurm_host("gpu[007-012]"), "gpu007");
  EXPECT_EQ(first_slurm_host("gpu[3,7]"), "gpu3");
  EXPECT_EQ(first_slurm_host("rack[1-2]-n[3-4],other"), "rack1-n3");
  EXPECT_THROW(first_slurm_host(""), InputError);
  EXPECT_THROW(first_slurm_host("host[1-3"), InputError);
  EXPECT_THROW(first_slurm_host("host]1"), InputError);
}
