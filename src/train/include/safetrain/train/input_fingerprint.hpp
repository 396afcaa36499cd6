#pragma once
// What a run trained on, recorded in every checkpoint (the "data" component's "input") so that
// `--resume` never carries on with other data: the input files (path, size, mtime), the split (row
// counts) and a content hash of the prepared rows (features, targets, row ids of every split).
// The hash decides; the files and counts say what changed. Data-parallel ranks compare the same
// record at rendezvous.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "safetrain/config/config.hpp"
#include "safetrain/data/prepare.hpp"

namespace safetrain::train {

// 64-bit hash of a tensor's bytes (contiguous; read in place), chained onto `seed`.
uint64_t hash_tensor(const torch::Tensor& t, uint64_t seed);

nlohmann::json input_fingerprint(const config::Config& config, const data::PreparedData& data);

// "" when `now` is the input `recorded` describes; otherwise one clause naming what differs (a file's
// size or time, the split's row counts, or the rows' content).
std::string input_difference(const nlohmann::json& recorded, const nlohmann::json& now);

}  // namespace safetrain::train
