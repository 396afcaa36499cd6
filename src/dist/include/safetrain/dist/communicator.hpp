#pragma once
// The collectives data-parallel training needs, over c10d (communicator_c10d.cpp is the only file that
// includes c10d): all-reduce, broadcast, all-gather, barrier, and the rendezvous store for small
// variable-sized messages (the run directory, the feature selection, the reservoirs and memory reports
// that rank 0 merges). An interface, so the bucketing is tested with an in-process fake.
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "safetrain/dist/launch_env.hpp"

namespace safetrain::dist {

enum class Backend { gloo, nccl };
const char* backend_name(Backend backend);
enum class Reduce { sum, max };

// A collective or the rendezvous failed: a rank died, the network broke, or the timeout passed.
// The message names this rank, the master address and the setting that bounds the wait.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual void all_reduce(torch::Tensor& tensor, Reduce op) = 0;  // in place, on every rank
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;      // in place
  virtual std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor) = 0;  // same shape on every rank
  virtual void barrier() = 0;
  // The store: set once by one rank, read (waiting up to `timeout`) by the others.
  virtual void publish(const std::string& key, const std::string& value) = 0;
  virtual std::string fetch(const std::string& key, std::chrono::milliseconds timeout) = 0;
};

struct ConnectOptions {
  LaunchEnv env;
  Backend backend = Backend::gloo;
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  std::string timeout_setting = "training.ddp_timeout_s";  // named in error messages
};

// Rendezvous through c10d's TCPStore (rank 0 hosts it at MASTER_ADDR:MASTER_PORT) and a Gloo or NCCL
// process group. DistributedError naming the address, port and rank when a rank cannot be reached in time.
std::unique_ptr<Communicator> connect(const ConnectOptions& options);

// Whether this LibTorch has the NCCL backend compiled in (CUDA builds of LibTorch 2.x).
bool nccl_available();

}  // namespace safetrain::dist
