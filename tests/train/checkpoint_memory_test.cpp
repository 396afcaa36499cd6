// A checkpoint write streams each file record by record: it adds no copy of the weights or of the
// optimizer's moments to the process's peak. Counted in bytes (the kernel's resident high-water mark,
// reset before the write), not timed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <string>

#include "safetrain/infer/checkpoint.hpp"
#include "safetrain/models/state_dict.hpp"
#include "../support/scratch_dir.hpp"

namespace fs = std::filesystem;
using namespace safetrain::infer;

namespace {

constexpr int64_t kMb = 1024 * 1024;

int64_t status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string word;
  while (in >> word) {
    if (word != key) continue;
    int64_t kb = -1;
    in >> kb;
    return kb;
  }
  return -1;
}

// Writing "5" to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
bool reset_peak() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

TEST(CheckpointWrite, AddsNoCopyOfTheWeightsOrMomentsToThePeak) {
  torch::nn::Linear net(2048, 4096);  // 8.4 M parameters: 32 MB of weights, 64 MB of Adam moments
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3));
  net(torch::randn({8, 2048})).sum().backward();
  optimizer.step();
  CheckpointWrite contents;
  contents.model = net.get();
  contents.optimizer = &optimizer;
  contents.scaling = {torch::zeros({2048}), torch::ones({2048}), torch::zeros({4096}), torch::ones({4096})};
  contents.components["counters"] = {{"epochs_completed", 1}, {"global_step", 1}};
  const fs::path dir = safetrain::testing_support::scratch_dir("checkpoint_memory") / "last";
  save_checkpoint(dir, contents);  // a first write: the code paths and the file system are warm

  if (!reset_peak()) GTEST_SKIP() << "/proc/self/clear_refs is not writable here";
  const int64_t before_kb = status_kb("VmRSS:");
  save_checkpoint(dir, contents);
  const int64_t added = (status_kb("VmHWM:") - before_kb) * 1024;
  // Serialised into memory first, the write added at least the 64 MB of moments (the old behaviour).
  EXPECT_LT(added, 16 * kMb) << "the checkpoint write raised the peak by " << added / kMb << " MB";
  EXPECT_GT(fs::file_size(dir / "optimizer.pt"), static_cast<uintmax_t>(64 * kMb));
}

// Loading weights (the best checkpoint before the test, predict) reads record by record: the peak grows
// by the weights themselves, not by a second whole-file copy of them.
TEST(CheckpointLoad, AddsOnlyTheWeightsThemselvesToThePeak) {
  torch::nn::Linear net(2048, 4096);  // 32 MB of weights
  const fs::path file = safetrain::testing_support::scratch_dir("checkpoint_memory_load") / "model.pt";
  safetrain::models::save_state_dict(*net, file);
  safetrain::models::load_state_dict(*net, file, true);  // warm
  if (!reset_peak()) GTEST_SKIP() << "/proc/self/clear_refs is not writable here";
  const int64_t before_kb = status_kb("VmRSS:");
  safetrain::models::load_state_dict(*net, file, true);
  const int64_t added = (status_kb("VmHWM:") - before_kb) * 1024;
  const auto weights = static_cast<int64_t>(fs::file_size(file));
  // Read whole into memory first, the load added the file and the tensors made from it (2x the weights).
  EXPECT_LT(added, weights + 12 * kMb) << "loading raised the peak by " << added / kMb << " MB for "
                                       << weights / kMb << " MB of weights";
}
