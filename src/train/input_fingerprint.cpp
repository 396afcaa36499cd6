#include "safetrain/train/input_fingerprint.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "safetrain/data/table_source.hpp"

namespace safetrain::train {
namespace {

// A 64-bit multiply-xorshift mix per 8-byte word: fast enough to hash a table that fills the RAM
// (several GB/s) and, unlike a sum, sensitive to order.
uint64_t mix(uint64_t h, uint64_t word) {
  h ^= word + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 33);
}

nlohmann::json input_files(const config::Config& config) {
  nlohmann::json files = nlohmann::json::array();
  if (config.data.source != data::DataSource::csv) return files;
  for (const auto& path : data::expand_glob(config.data.path)) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) continue;
    const int64_t mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
    files.push_back({{"path", path.string()}, {"size", static_cast<int64_t>(info.st_size)}, {"mtime_ns", mtime_ns}});
  }
  return files;
}

std::string hex(uint64_t value) {
  std::ostringstream out;
  out << std::hex << value;
  return out.str();
}

}  // namespace

uint64_t hash_tensor(const torch::Tensor& t, uint64_t seed) {
  if (!t.defined()) return mix(seed, 0);
  if (!t.is_contiguous()) {
    // A strided view is hashed a block of rows at a time: never a second copy of a large table.
    constexpr int64_t kBlockRows = 4096;
    uint64_t h = seed;
    for (int64_t start = 0; start < t.size(0); start += kBlockRows) {
      h = hash_tensor(t.narrow(0, start, std::min(kBlockRows, t.size(0) - start)).contiguous(), h);
    }
    return h;
  }
  const auto* bytes = static_cast<const unsigned char*>(t.data_ptr());
  const size_t size = static_cast<size_t>(t.numel()) * t.element_size();
  uint64_t h = mix(seed, size);
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word = 0;
    std::memcpy(&word, bytes + i, 8);
    h = mix(h, word);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, bytes + i, size - i);
  return mix(h, tail);
}

nlohmann::json input_fingerprint(const config::Config& config, const data::PreparedData& data) {
  uint64_t h = 0;
  for (const auto* split : {&data.train, &data.val, &data.test}) {
    h = hash_tensor(split->row_ids, hash_tensor(split->y, hash_tensor(split->x, h)));
  }
  return {{"files", input_files(config)},
          {"split_rows", {data.train.size(), data.val.size(), data.test.size()}},
          {"rows_hash", hex(h)}};
}

std::string input_difference(const nlohmann::json& recorded, const nlohmann::json& now) {
  if (recorded.value("rows_hash", "") == now.value("rows_hash", "")) return "";
  const auto& then_files = recorded.value("files", nlohmann::json::array());
  const auto& now_files = now.value("files", nlohmann::json::array());
  for (size_t i = 0; i < then_files.size() && i < now_files.size(); ++i) {
    const auto& a = then_files[i];
    const auto& b = now_files[i];
    if (a.value("path", "") != b.value("path", "")) {
      return "the input files differ (" + a.value("path", "") + " then, " + b.value("path", "") + " now)";
    }
    if (a.value("size", -1) != b.value("size", -1)) {
      return a.value("path", "") + " changed size (" + std::to_string(a.value("size", -1)) + " bytes then, " +
             std::to_string(b.value("size", -1)) + " now)";
    }
  }
  if (then_files.size() != now_files.size()) {
    return "the input matched " + std::to_string(then_files.size()) + " file(s) then, " +
           std::to_string(now_files.size()) + " now";
  }
  if (recorded.value("split_rows", nlohmann::json()) != now.value("split_rows", nlohmann::json())) {
    return "the train/val/test split had " + recorded.value("split_rows", nlohmann::json()).dump() + " rows then, " +
           now.value("split_rows", nlohmann::json()).dump() + " now";
  }
  const bool touched = !then_files.empty() && then_files != now_files;
  return std::string("the rows' content differs") + (touched ? " (a file was rewritten since)" : "");
}

}  // namespace safetrain::train
