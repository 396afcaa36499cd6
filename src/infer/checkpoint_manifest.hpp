#pragma once
// Private to src/train: the checksums a checkpoint's state.json keeps of its other files, so a flipped byte
// in model.pt is an error on load instead of different predictions. CRC-32 from zlib: a checkpoint is not
// guarded against an attacker, only against disks and copies.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace safetrain::infer {

// {"model.pt": {"bytes": N, "crc32": C}, ...} for each named file of `dir` that exists.
nlohmann::json file_manifest(const std::filesystem::path& dir, const std::vector<std::string>& names);
// InputError naming the file when one is missing, has another size or another checksum.
void verify_manifest(const std::filesystem::path& dir, const nlohmann::json& files);

}  // namespace safetrain::infer
