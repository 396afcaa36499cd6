// loader_bench: safetrain's loader (index gathers from one contiguous tensor) against LibTorch's
// torch::data loader (a Dataset returning per-sample tensors, Stack collation) on the same data,
// batch size and worker count, in one run. Prints batches/s of each and the ratio (target >= 5x).
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "safetrain/data/loader.hpp"

namespace sd = safetrain::data;
using Clock = std::chrono::steady_clock;

namespace {

// The per-sample dataset a torch::data user would write.
class RowDataset : public torch::data::datasets::Dataset<RowDataset> {
 public:
  RowDataset(torch::Tensor x, torch::Tensor y) : x_(std::move(x)), y_(std::move(y)) {}
  torch::data::Example<> get(size_t index) override {
    const auto i = static_cast<int64_t>(index);
    return {x_[i], y_[i]};
  }
  torch::optional<size_t> size() const override { return static_cast<size_t>(x_.size(0)); }

 private:
  torch::Tensor x_, y_;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Batches per second over `epochs` epochs; `checksum` keeps the work from being optimised away.
double ours(const sd::SplitTensors& data, int64_t batch, int64_t workers, int epochs, double& checksum) {
  sd::LoaderOptions o;
  o.batch_size = batch;
  o.workers.num_workers = workers;
  o.workers.max_workers = workers;
  sd::Loader loader(data, o);
  int64_t batches = 0;
  const auto start = Clock::now();
  for (int e = 0; e < epochs; ++e) {
    auto pass = loader.epoch(e);
    while (auto b = pass->next()) {
      checksum += b->x.data_ptr<float>()[0];
      ++batches;
    }
  }
  return static_cast<double>(batches) / seconds_since(start);
}

double theirs(const sd::SplitTensors& data, int64_t batch, int64_t workers, int epochs, double& checksum) {
  auto dataset = RowDataset(data.x, data.y).map(torch::data::transforms::Stack<>());
  auto loader = torch::data::make_data_loader<torch::data::samplers::RandomSampler>(
      std::move(dataset), torch::data::DataLoaderOptions().batch_size(static_cast<size_t>(batch)).workers(static_cast<size_t>(workers)));
  int64_t batches = 0;
  const auto start = Clock::now();
  for (int e = 0; e < epochs; ++e) {
    for (auto& b : *loader) {
      checksum += b.data.data_ptr<float>()[0];
      ++batches;
    }
  }
  return static_cast<double>(batches) / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"loader_bench: safetrain loader vs torch::data on rows x columns floats"};
  int64_t rows = 100000, columns = 64, batch = 64, workers = 0;
  int epochs = 3;
  app.add_option("--rows", rows, "rows")->capture_default_str();
  app.add_option("--columns", columns, "feature columns")->capture_default_str();
  app.add_option("--batch-size", batch, "batch size")->capture_default_str();
  app.add_option("--workers", workers, "worker threads for both loaders")->capture_default_str();
  app.add_option("--epochs", epochs, "epochs timed per loader")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  torch::manual_seed(0);
  const sd::SplitTensors data{torch::randn({rows, columns}), torch::randn({rows, 6}), torch::arange(rows, torch::kLong)};
  double checksum = 0;
  ours(data, batch, workers, 1, checksum);  // warm-up of allocator and thread pool
  const double our_rate = ours(data, batch, workers, epochs, checksum);
  const double their_rate = theirs(data, batch, workers, epochs, checksum);
  std::printf("data: %lld x %lld float32, batch %lld, workers %lld, %d epochs, torch %s threads %d\n",
              static_cast<long long>(rows), static_cast<long long>(columns), static_cast<long long>(batch),
              static_cast<long long>(workers), epochs, TORCH_VERSION, torch::get_num_threads());
  std::printf("safetrain loader : %10.0f batches/s\n", our_rate);
  std::printf("torch::data      : %10.0f batches/s\n", their_rate);
  std::printf("ratio            : %10.1fx (target >= 5x)   [checksum %.3g]\n", our_rate / their_rate, checksum);
  return 0;
}
