#pragma once
// The built-in data source: a seeded 6-joint arm. Features are joint angles,
// noisy encoder and torque readings; targets are the end-effector pose
// (x, y, z, roll, pitch, yaw). Redundant descriptor columns (sin/cos,
// products, near-duplicates, constants, mostly-missing, noise) give the
// descriptor pipeline real work.
#include <cstdint>
#include <string>
#include <vector>

#include "safetrain/data/data_options.hpp"
#include "safetrain/data/table.hpp"

namespace safetrain::data {

Table make_synthetic_arm(const SyntheticOptions& options);
const std::vector<std::string>& synthetic_target_names();

}  // namespace safetrain::data
