// The one file that talks to c10d (LibTorch's torch.distributed engine). The calls used here are the
// same in LibTorch 1.13 and 2.x (where ProcessGroupGloo derives from c10d::Backend instead of
// ProcessGroup, and NCCL is compiled into CUDA builds); the version checks below say where they differ.
#include <torch/version.h>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(SAFETRAIN_WITH_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

#include "safetrain/common/log.hpp"
#include "safetrain/dist/communicator.hpp"
#include "safetrain/dist/store_socket.hpp"

#if TORCH_VERSION_MAJOR < 1 || (TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR < 13)
#error "safetrain's data-parallel training needs LibTorch 1.13 or newer (c10d TCPStore options, ProcessGroupGloo)"
#endif

namespace safetrain::dist {
namespace {

std::string where(const LaunchEnv& env) {
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ", master " + env.master_addr +
         ":" + std::to_string(env.master_port);
}

std::string seconds(std::chrono::milliseconds t) { return std::to_string(t.count() / 1000) + " s"; }

bool is_loopback(const std::string& addr) { return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1"; }

// Gloo's transport device: the interface named by GLOO_SOCKET_IFNAME (as in PyTorch), loopback for a
// single-machine job, else the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnv& env) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (is_loopback(env.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

template <typename Group>
class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group, const ConnectOptions& o)
      : store_(std::move(store)), group_(std::move(group)), options_(o) {}

  int rank() const override { return options_.env.rank; }
  int world_size() const override { return options_.env.world_size; }

  void all_reduce(torch::Tensor& tensor, Reduce op) override {
    c10d::AllreduceOptions o;
    o.reduceOp = op == Reduce::sum ? c10d::ReduceOp::SUM : c10d::ReduceOp::MAX;
    std::vector<at::Tensor> tensors{tensor};
    guarded("all-reduce", [&] { group_->allreduce(tensors, o)->wait(); });
  }
  void broadcast(torch::Tensor& tensor, int root) override {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    std::vector<at::Tensor> tensors{tensor};
    guarded("broadcast", [&] { group_->broadcast(tensors, o)->wait(); });
  }
  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor) override {
    std::vector<at::Tensor> input{tensor.contiguous()};
    std::vector<std::vector<at::Tensor>> output(1);
    for (int r = 0; r < world_size(); ++r) output[0].push_back(torch::empty_like(input[0]));
    guarded("all-gather", [&] { group_->allgather(output, input)->wait(); });
    return output[0];
  }
  void barrier() override {
    guarded("barrier", [&] { group_->barrier()->wait(); });
  }
  void publish(const std::string& key, const std::string& value) override {
    guarded("store set", [&] { store_->set(key, std::vector<uint8_t>(value.begin(), value.end())); });
  }
  std::string fetch(const std::string& key, std::chrono::milliseconds timeout) override {
    std::vector<uint8_t> bytes;
    guarded("store get '" + key + "'", [&] {
      store_->wait({key}, timeout);
      bytes = store_->get(key);
    });
    return std::string(bytes.begin(), bytes.end());
  }

 private:
  // A failed collective means a peer died or the network broke: say which rank waited and for how long.
  template <typename F>
  void guarded(const std::string& what, F&& call) {
    try {
      call();
    } catch (const std::exception& e) {
      throw DistributedError("ddp: " + what + " failed on " + where(options_.env) +
                             ": another rank exited, hung or became unreachable (waited at most " +
                             seconds(options_.timeout) + ", " + options_.timeout_setting + "): " + first_line(e.what()));
    }
  }
  static std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Group> group_;
  ConnectOptions options_;
};

c10::intrusive_ptr<c10d::TCPStore> rendezvous(const ConnectOptions& o) {
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<uint16_t>(o.env.master_port);
  // Under torchrun the agent hosts the store at MASTER_PORT; otherwise rank 0 does and waits for everyone.
  store_options.isServer = o.env.rank == 0 && !o.env.agent_store;
  if (!o.env.agent_store) store_options.numWorkers = static_cast<size_t>(o.env.world_size);
  store_options.waitWorkers = !o.env.agent_store;
  store_options.timeout = o.timeout;
  // Left alone, the store listens on every interface, unauthenticated: bind it to MASTER_ADDR's.
  if (store_options.isServer) {
    store_options.masterListenFd = listen_on_master_address(o.env.master_addr, o.env.master_port);
  }
  return c10::make_intrusive<c10d::TCPStore>(o.env.master_addr, store_options);
}

std::unique_ptr<Communicator> make_group(const c10::intrusive_ptr<c10d::Store>& store, const ConnectOptions& o) {
  if (o.backend == Backend::nccl) {
#if defined(SAFETRAIN_WITH_NCCL)
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = o.timeout;
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, o.env.rank, o.env.world_size, nccl_options);
    return std::make_unique<C10dCommunicator<c10d::ProcessGroupNCCL>>(store, std::move(group), o);
#else
    throw std::runtime_error("this LibTorch has no NCCL backend (a CPU build): use training.ddp_backend: gloo");
#endif
  }
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(o.timeout);
  gloo_options->devices.push_back(gloo_device(o.env));
  auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.env.rank, o.env.world_size, gloo_options);
  return std::make_unique<C10dCommunicator<c10d::ProcessGroupGloo>>(store, std::move(group), o);
}

}  // namespace

const char* backend_name(Backend backend) { return backend == Backend::nccl ? "nccl" : "gloo"; }

bool nccl_available() {
#if defined(SAFETRAIN_WITH_NCCL)
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Communicator> connect(const ConnectOptions& o) {
  log::info("ddp: ", where(o.env), " (", o.env.launcher, "), backend ", backend_name(o.backend), ", timeout ",
            seconds(o.timeout));
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = rendezvous(o);
  } catch (const std::exception& e) {
    throw DistributedError("ddp: " + where(o.env) + ": " +
                           (o.env.rank == 0 ? std::string("the other ranks did not all connect")
                                            : std::string("cannot reach the master")) +
                           " within " + seconds(o.timeout) + " (" + o.timeout_setting +
                           "); check that every rank runs with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE and "
                           "that the port is open: " + std::string(e.what()).substr(0, 200));
  }
  try {
    return make_group(store, o);
  } catch (const std::exception& e) {
    throw DistributedError("ddp: " + where(o.env) + ": the " + backend_name(o.backend) +
                           " process group did not form within " + seconds(o.timeout) + " (" + o.timeout_setting +
                           "): " + std::string(e.what()).substr(0, 300));
  }
}

}  // namespace safetrain::dist
