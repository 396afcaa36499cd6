#include "checkpoint_manifest.hpp"

#include <zlib.h>

#include <fstream>
#include <vector>

#include "safetrain/common/error.hpp"

namespace fs = std::filesystem;

namespace safetrain::infer {
namespace {

struct FileSum {
  uint64_t bytes = 0;
  uint32_t crc = 0;
};

FileSum checksum(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": missing from the checkpoint (incomplete or not a safetrain checkpoint)");
  FileSum sum;
  uLong crc = crc32(0L, Z_NULL, 0);
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto got = static_cast<uInt>(in.gcount());
    crc = crc32(crc, reinterpret_cast<const Bytef*>(block.data()), got);
    sum.bytes += got;
  }
  sum.crc = static_cast<uint32_t>(crc);
  return sum;
}

}  // namespace

nlohmann::json file_manifest(const fs::path& dir, const std::vector<std::string>& names) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& name : names) {
    if (!fs::exists(dir / name)) continue;
    const auto sum = checksum(dir / name);
    files[name] = {{"bytes", sum.bytes}, {"crc32", sum.crc}};
  }
  return files;
}

void verify_manifest(const fs::path& dir, const nlohmann::json& files) {
  if (!files.is_object()) throw InputError((dir / "state.json").string() + ": corrupt checkpoint state: no file list");
  for (const auto& [name, expected] : files.items()) {
    const auto sum = checksum(dir / name);
    if (sum.bytes != expected.value("bytes", uint64_t{0}) || sum.crc != expected.value("crc32", uint32_t{0})) {
      throw InputError((dir / name).string() + ": checksum mismatch (" + std::to_string(sum.bytes) + " bytes, crc32 " +
                       std::to_string(sum.crc) + " where state.json recorded " + expected.dump() +
                       "): the file changed after it was written; the checkpoint is corrupt");
    }
  }
}

}  // namespace safetrain::infer
